import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { setupNameFor } from '../../src/rest-api/naming.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { responseChecker } from '../support/openapi-check.ts';
import { listAll, startRestApiFixture, WORKSPACE, type Account, type RestApiFixture } from '../support/rest-api.ts';

/**
 * Bad requests to the REST API: each answered with the right status, the one error shape and a
 * message saying what is wrong, and none of them changing anything in the cluster.
 */
const c = cluster();
const id = uniqueSuffix();
const base = `/v1/${WORKSPACE}/channels/ses-setup`;
const existing = `errors-${id}`;
let api: RestApiFixture;
let existingId = '';
let check: ReturnType<typeof responseChecker>;

interface BadRequest {
  what: string;
  method: string;
  path: string | (() => string);
  as?: Account | null;
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string;
  status: number;
  code: string;
  message: RegExp;
  fields?: string[];
}

const UNKNOWN = '0b4e7a0e-5b2a-4c1e-9f44-0f7d3c2a9b11';
const good = { tenant_name: `Bad_${id}`, domain_identity: `bad-${id}.test` };

const BAD_REQUESTS: BadRequest[] = [
  // Tokens
  { what: 'no token', method: 'GET', path: base, as: null, status: 401, code: 'unauthenticated', message: /missing Authorization header/ },
  {
    what: 'Basic instead of Bearer',
    method: 'GET',
    path: base,
    headers: { authorization: 'Basic dXNlcjpwYXNz' },
    as: null,
    status: 401,
    code: 'unauthenticated',
    message: /must be "Bearer <token>"/,
  },
  {
    what: 'empty bearer token',
    method: 'GET',
    path: base,
    headers: { authorization: 'Bearer ' },
    as: null,
    status: 401,
    code: 'unauthenticated',
    message: /must be "Bearer <token>"/,
  },
  {
    what: 'unknown token',
    method: 'GET',
    path: base,
    token: 'not-a-kubernetes-token',
    status: 401,
    code: 'unauthenticated',
    message: /not accepted by the cluster/,
  },
  {
    what: 'forged token (signature altered)',
    method: 'GET',
    path: base,
    token: 'FORGED',
    status: 401,
    code: 'unauthenticated',
    message: /not accepted by the cluster/,
  },
  // Permissions
  {
    what: 'create without Channel.create',
    method: 'POST',
    path: base,
    as: 'view',
    body: good,
    status: 403,
    code: 'forbidden',
    message: /lacks Channel\.create/,
  },
  {
    what: 'delete without Channel.delete',
    method: 'DELETE',
    path: () => `${base}/${existingId}`,
    as: 'create',
    status: 403,
    code: 'forbidden',
    message: /lacks Channel\.delete/,
  },
  {
    what: 'verify without Channel.view',
    method: 'POST',
    path: () => `${base}/${existingId}/verify`,
    as: 'none',
    status: 403,
    code: 'forbidden',
    message: /lacks Channel\.view/,
  },
  // Path parameters
  {
    what: 'workspace_id not a UUID',
    method: 'GET',
    path: '/v1/not-a-uuid/channels/ses-setup',
    status: 422,
    code: 'validation_failed',
    message: /workspace_id: must be a UUID/,
    fields: ['workspace_id'],
  },
  {
    what: 'workspace_id a number',
    method: 'GET',
    path: '/v1/12345/channels/ses-setup',
    status: 422,
    code: 'validation_failed',
    message: /workspace_id/,
    fields: ['workspace_id'],
  },
  {
    what: 'workspace_id without hyphens',
    method: 'GET',
    path: '/v1/3fa85f6457174562b3fc2c963f66afa6/channels/ses-setup',
    status: 422,
    code: 'validation_failed',
    message: /workspace_id/,
    fields: ['workspace_id'],
  },
  {
    what: 'create under a bad workspace_id',
    method: 'POST',
    path: '/v1/xyz/channels/ses-setup',
    as: 'create',
    body: good,
    status: 422,
    code: 'validation_failed',
    message: /workspace_id/,
    fields: ['workspace_id'],
  },
  {
    what: 'setup_id not a UUID',
    method: 'GET',
    path: `${base}/acme-mail`,
    status: 422,
    code: 'validation_failed',
    message: /setup_id: must be a UUID/,
    fields: ['setup_id'],
  },
  {
    what: 'delete with setup_id not a UUID',
    method: 'DELETE',
    path: `${base}/1`,
    as: 'delete',
    status: 422,
    code: 'validation_failed',
    message: /setup_id/,
    fields: ['setup_id'],
  },
  // Query parameters
  { what: 'limit 0', method: 'GET', path: `${base}?limit=0`, status: 422, code: 'validation_failed', message: /limit: must be >= 1/, fields: ['limit'] },
  { what: 'limit 21', method: 'GET', path: `${base}?limit=21`, status: 422, code: 'validation_failed', message: /limit: must be <= 20/, fields: ['limit'] },
  { what: 'limit 1000', method: 'GET', path: `${base}?limit=1000`, status: 422, code: 'validation_failed', message: /limit: must be <= 20/, fields: ['limit'] },
  {
    what: 'limit a word',
    method: 'GET',
    path: `${base}?limit=ten`,
    status: 422,
    code: 'validation_failed',
    message: /limit: must be a whole number/,
    fields: ['limit'],
  },
  {
    what: 'limit a fraction',
    method: 'GET',
    path: `${base}?limit=1.5`,
    status: 422,
    code: 'validation_failed',
    message: /limit: must be a whole number/,
    fields: ['limit'],
  },
  { what: 'limit negative', method: 'GET', path: `${base}?limit=-1`, status: 422, code: 'validation_failed', message: /limit/, fields: ['limit'] },
  {
    what: 'continuation_token negative',
    method: 'GET',
    path: `${base}?continuation_token=-5`,
    status: 422,
    code: 'validation_failed',
    message: /continuation_token/,
    fields: ['continuation_token'],
  },
  {
    what: 'continuation_token not a number',
    method: 'GET',
    path: `${base}?continuation_token=abc`,
    status: 422,
    code: 'validation_failed',
    message: /continuation_token: must be a whole number/,
    fields: ['continuation_token'],
  },
  {
    what: 'both query parameters bad',
    method: 'GET',
    path: `${base}?limit=50&continuation_token=x`,
    status: 422,
    code: 'validation_failed',
    message: /limit.*continuation_token/,
    fields: ['limit', 'continuation_token'],
  },
  // Bodies
  {
    what: 'body without Content-Type',
    method: 'POST',
    path: base,
    as: 'create',
    raw: JSON.stringify(good),
    headers: { 'content-type': '' },
    status: 415,
    code: 'unsupported_media_type',
    message: /must be application\/json/,
  },
  {
    what: 'body as text/plain',
    method: 'POST',
    path: base,
    as: 'create',
    raw: JSON.stringify(good),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
    message: /got text\/plain/,
  },
  {
    what: 'malformed JSON',
    method: 'POST',
    path: base,
    as: 'create',
    raw: '{"tenant_name": "acme", ',
    status: 400,
    code: 'malformed_json',
    message: /not valid JSON/,
  },
  {
    what: 'empty body',
    method: 'POST',
    path: base,
    as: 'create',
    raw: '',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'malformed_json',
    message: /not valid JSON/,
  },
  {
    what: 'oversized body (64 KiB)',
    method: 'POST',
    path: base,
    as: 'create',
    raw: JSON.stringify({ ...good, padding: 'x'.repeat(64 * 1024) }),
    status: 413,
    code: 'payload_too_large',
    message: /at most 16384 bytes/,
  },
  { what: 'a JSON array', method: 'POST', path: base, as: 'create', body: [good], status: 422, code: 'validation_failed', message: /body/, fields: ['body'] },
  {
    what: 'missing both fields',
    method: 'POST',
    path: base,
    as: 'create',
    body: {},
    status: 422,
    code: 'validation_failed',
    message: /tenant_name: is required; domain_identity: is required/,
    fields: ['tenant_name', 'domain_identity'],
  },
  {
    what: 'tenant_name with a space and !',
    method: 'POST',
    path: base,
    as: 'create',
    body: { ...good, tenant_name: 'acme prod!' },
    status: 422,
    code: 'validation_failed',
    message: /tenant_name: may contain only/,
    fields: ['tenant_name'],
  },
  {
    what: 'tenant_name of 65 characters',
    method: 'POST',
    path: base,
    as: 'create',
    body: { ...good, tenant_name: 'a'.repeat(65) },
    status: 422,
    code: 'validation_failed',
    message: /tenant_name: must be at most 64/,
    fields: ['tenant_name'],
  },
  {
    what: 'tenant_name empty',
    method: 'POST',
    path: base,
    as: 'create',
    body: { ...good, tenant_name: '' },
    status: 422,
    code: 'validation_failed',
    message: /tenant_name: must not be empty/,
    fields: ['tenant_name'],
  },
  {
    what: 'tenant_name a number',
    method: 'POST',
    path: base,
    as: 'create',
    body: { ...good, tenant_name: 42 },
    status: 422,
    code: 'validation_failed',
    message: /tenant_name: must be a string/,
    fields: ['tenant_name'],
  },
  {
    what: 'domain_identity of one label',
    method: 'POST',
    path: base,
    as: 'create',
    body: { ...good, domain_identity: 'localhost' },
    status: 422,
    code: 'validation_failed',
    message: /domain_identity: must be a DNS name/,
    fields: ['domain_identity'],
  },
  {
    what: 'domain_identity with an underscore',
    method: 'POST',
    path: base,
    as: 'create',
    body: { ...good, domain_identity: 'bad_domain.test' },
    status: 422,
    code: 'validation_failed',
    message: /domain_identity/,
    fields: ['domain_identity'],
  },
  {
    what: 'domain_identity longer than 253 characters',
    method: 'POST',
    path: base,
    as: 'create',
    body: { ...good, domain_identity: `${'a'.repeat(60)}.`.repeat(4) + 'abcdefghi.test' },
    status: 422,
    code: 'validation_failed',
    message: /domain_identity: must be at most 253/,
    fields: ['domain_identity'],
  },
  {
    what: 'both fields bad',
    method: 'POST',
    path: base,
    as: 'create',
    body: { tenant_name: 'x y', domain_identity: '-bad-.test' },
    status: 422,
    code: 'validation_failed',
    message: /tenant_name.*domain_identity/,
    fields: ['tenant_name', 'domain_identity'],
  },
  // Unknown setups
  {
    what: 'GET an unknown setup',
    method: 'GET',
    path: `${base}/${UNKNOWN}`,
    status: 404,
    code: 'not_found',
    message: new RegExp(`no SES setup with id ${UNKNOWN}`),
  },
  { what: 'verify an unknown setup', method: 'POST', path: `${base}/${UNKNOWN}/verify`, status: 404, code: 'not_found', message: /no SES setup/ },
  { what: 'DELETE an unknown setup', method: 'DELETE', path: `${base}/${UNKNOWN}`, as: 'delete', status: 404, code: 'not_found', message: /no SES setup/ },
  // Methods and paths
  { what: 'PUT on the list', method: 'PUT', path: base, status: 405, code: 'method_not_allowed', message: /PUT is not allowed .* allowed: GET, POST/ },
  { what: 'PATCH on a setup', method: 'PATCH', path: `${base}/${UNKNOWN}`, status: 405, code: 'method_not_allowed', message: /allowed: GET, DELETE/ },
  { what: 'GET on verify', method: 'GET', path: `${base}/${UNKNOWN}/verify`, status: 405, code: 'method_not_allowed', message: /allowed: POST/ },
  { what: 'POST on the OpenAPI document', method: 'POST', path: '/openapi.json', status: 405, code: 'method_not_allowed', message: /allowed: GET/ },
  { what: 'an unknown path', method: 'GET', path: `/v1/${WORKSPACE}/channels/sms-setup`, status: 404, code: 'not_found', message: /no endpoint/ },
  { what: 'the root', method: 'GET', path: '/', status: 404, code: 'not_found', message: /no endpoint \// },
];

/** What a bad request must not change: every SesSetup's identity, spec generation and annotations; the use cases. */
async function snapshot(): Promise<string> {
  const { stdout } = await c.kubectl(['get', 'sessetups,emailusecases', '-A', '-o', 'json']);
  const items = (JSON.parse(stdout) as { items: { kind: string; metadata: Record<string, unknown> }[] }).items;
  return JSON.stringify(
    items.map(({ kind, metadata: { name, namespace, uid, generation, annotations, deletionTimestamp } }) => ({
      kind,
      name,
      namespace,
      uid,
      generation,
      annotations,
      deletionTimestamp,
    })),
  );
}

describe('REST API: bad requests', () => {
  beforeAll(async () => {
    api = await startRestApiFixture('rest-api-errors');
    check = responseChecker((await api.call('GET', '/openapi.json', { as: null })).body);
    const setup = await c.createSetup(existing, { tenantName: `errors_${id}`, domainIdentity: `mail.errors-${id}.test` });
    existingId = setup.metadata.uid!;
    await waitUntil('the setup in the API', async () => (await listAll(api)).some((i) => i.id === existingId));
  });

  afterAll(async () => {
    await c.deleteSetup(existing);
    await waitUntil('the setup torn down', async () => (await c.getSetup(existing)) === undefined, { timeoutMs: 30_000 });
    await api?.stop();
  });

  it(`answers each of ${BAD_REQUESTS.length} bad requests with its status, the one error shape and a message; nothing changes`, async () => {
    expect(BAD_REQUESTS.length).toBeGreaterThanOrEqual(30);
    const before = await snapshot();
    const forged = `${api.tokens.view.slice(0, -4)}AAAA`;
    const problems: string[] = [];
    for (const bad of BAD_REQUESTS) {
      const path = typeof bad.path === 'function' ? bad.path() : bad.path;
      const response = await api.call(bad.method, path, {
        as: bad.as === undefined ? 'view' : bad.as,
        token: bad.token === 'FORGED' ? forged : bad.token,
        body: bad.body,
        raw: bad.raw,
        headers: bad.headers,
      });
      const error = response.body?.error;
      const ok =
        response.status === bad.status &&
        error?.status === bad.status &&
        error?.code === bad.code &&
        bad.message.test(error?.message ?? '') &&
        (bad.fields === undefined || JSON.stringify(error.fields.map((f: { field: string }) => f.field)) === JSON.stringify(bad.fields));
      if (!ok) problems.push(`${bad.what}: ${response.status} ${response.text.slice(0, 300)}`);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      if (bad.status === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      if (bad.status === 405) expect(response.headers.allow).toBeDefined();
      // Documented answers match the document's error schema.
      const template = path.startsWith('/v1/') && [401, 403, 404, 409, 422].includes(bad.status) && !path.includes('sms-setup') ? templateOf(path) : undefined;
      if (template && !(bad.status === 404 && template === '/v1/{workspace_id}/channels/ses-setup')) check(template, bad.method, response);
    }
    expect(problems).toEqual([]);
    expect(await snapshot()).toBe(before);
    expect(await c.getSetup(setupNameFor(good.tenant_name))).toBeUndefined();
  });

  it('refuses to start with plain HTTP on a non-loopback address, or half a TLS pair', async () => {
    const start = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [join(PROJECT_ROOT, 'src/cli/main.ts'), 'run', '--region', 'us-east-1', ...args],
          { timeout: 30_000 },
          () => {},
        );
        let stderr = '';
        child.stderr?.on('data', (chunk) => (stderr += chunk));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const plain = await start(['--api-bind-address', ':8443']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/--api-bind-address :8443 is not a loopback address: .*--api-tls-cert-file/);
    const half = await start(['--api-bind-address', ':8443', '--api-tls-cert-file', '/tmp/tls.crt']);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--api-tls-cert-file and --api-tls-key-file go together/);
  });
});

function templateOf(path: string): string {
  const parts = path.split('?')[0]!.split('/');
  const template = ['', 'v1', '{workspace_id}', 'channels', 'ses-setup', '{setup_id}', 'verify'].slice(0, parts.length);
  return template.join('/');
}

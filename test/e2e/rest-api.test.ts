import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { setupNameFor } from '../../src/rest-api/naming.ts';
import { REQUESTED_BY_ANNOTATION } from '../../src/rest-api/channels.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { responseChecker } from '../support/openapi-check.ts';
import { listAll, startRestApiFixture, WORKSPACE, type RestApiFixture } from '../support/rest-api.ts';

/**
 * The Channels REST API served by the operator, end to end: real ServiceAccount tokens checked
 * by TokenReview and SubjectAccessReview, SesSetups in the real API server, the SES simulator,
 * records published in the local BIND, answers checked against the served OpenAPI document.
 */
const c = cluster();
const id = uniqueSuffix();
const LIST = '/v1/{workspace_id}/channels/ses-setup';
const ONE = `${LIST}/{setup_id}`;
const base = `/v1/${WORKSPACE}/channels/ses-setup`;
let api: RestApiFixture;
let check: ReturnType<typeof responseChecker>;
const tenant = `Rest_${id}`;
const domain = `mail.rest-${id}.test`;
let setupId = '';

describe('REST API: the original Channels endpoints', () => {
  beforeAll(async () => {
    api = await startRestApiFixture('rest-api');
    const document = await api.call('GET', '/openapi.json', { as: null });
    check = responseChecker(document.body);
  });

  afterAll(async () => {
    await c.deleteUseCase(api.namespace, 'invoices');
    for (const name of [setupNameFor(tenant), setupNameFor(`Other_${id}`)]) await c.deleteSetup(name);
    await waitUntil('the setups to be torn down', async () => (await c.getSetup(setupNameFor(tenant))) === undefined, { timeoutMs: 30_000 });
    await api?.stop();
  });

  it('serves an OpenAPI 3.1 document of exactly its endpoints, valid for an OpenAPI validator, without a token', async () => {
    const response = await api.call('GET', '/openapi.json', { as: null });
    expect(response.status).toBe(200);
    const result = await new Validator().validate(response.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const methods = Object.fromEntries(Object.entries(response.body.paths as Record<string, object>).map(([path, ops]) => [path, Object.keys(ops).sort()]));
    expect(methods).toEqual({ [LIST]: ['get', 'post'], [ONE]: ['delete', 'get'], [`${ONE}/verify`]: ['post'], '/openapi.json': ['get'] });
  });

  it('POST creates a SesSetup named after the tenant and answers 201 with the DNS records to publish', async () => {
    const response = await api.call('POST', base, { as: 'create', body: { tenant_name: tenant, domain_identity: domain.toUpperCase() } });
    expect(response.status, response.text).toBe(201);
    check(LIST, 'POST', response);
    const detail = response.body;
    expect(detail).toMatchObject({
      name: setupNameFor(tenant),
      tenant_name: tenant,
      domain_identity: domain,
      dns_verified: false,
      refreshed: true,
      notice: null,
    });
    expect(detail.dns_records.map((r: { purpose: string }) => r.purpose).sort()).toEqual(['DKIM', 'DKIM', 'DKIM', 'DMARC', 'MX']);
    expect(detail.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const setup = (await c.getSetup(detail.name))!;
    expect(setup.metadata.uid).toBe(detail.id);
    expect(setup.spec).toMatchObject({ tenantName: tenant, domainIdentity: domain });
    expect(setup.metadata.annotations?.[REQUESTED_BY_ANNOTATION]).toBe(`system:serviceaccount:${api.namespace}:channel-create`);
    expect(detail.created_at).toBe(setup.metadata.creationTimestamp);
    setupId = detail.id;
  });

  it('POST answers 409 when the tenant name or the domain is taken, and 403 without Channel.create', async () => {
    const again = await api.call('POST', base, { as: 'create', body: { tenant_name: tenant, domain_identity: `other-${id}.test` } });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(new RegExp(`tenant_name ${tenant} is already used by SesSetup ${setupNameFor(tenant)}`));
    const sameDomain = await api.call('POST', base, { as: 'create', body: { tenant_name: `Other_${id}`, domain_identity: domain } });
    expect(sameDomain.status).toBe(409);
    expect(sameDomain.body.error.message).toMatch(/domain_identity .* is already used/);
    for (const as of ['view', 'delete', 'none'] as const) {
      const refused = await api.call('POST', base, { as, body: { tenant_name: `Other_${id}`, domain_identity: `other-${id}.test` } });
      expect(refused.status).toBe(403);
      check(LIST, 'POST', refused);
      expect(refused.body.error).toMatchObject({ code: 'forbidden', permission: 'Channel.create' });
      expect(refused.body.error.message).toContain(`channel-${as}`);
    }
    expect(await c.getSetup(setupNameFor(`Other_${id}`))).toBeUndefined();
  });

  it('authorizes every endpoint for exactly the accounts bound to its permission (none, view, create, delete)', async () => {
    const unknown = `${base}/0b4e7a0e-5b2a-4c1e-9f44-0f7d3c2a9b11`;
    // Allowed requests that change nothing: an unknown setup (404), an invalid body (422).
    const endpoints = [
      { call: ['GET', base] as const, permission: 'view', allowed: 200 },
      { call: ['GET', unknown] as const, permission: 'view', allowed: 404 },
      { call: ['POST', `${unknown}/verify`] as const, permission: 'view', allowed: 404 },
      { call: ['POST', base] as const, permission: 'create', allowed: 422, body: { tenant_name: '' } },
      { call: ['DELETE', unknown] as const, permission: 'delete', allowed: 404 },
    ];
    const seen: string[] = [];
    for (const { call, permission, allowed, body } of endpoints) {
      for (const as of ['none', 'view', 'create', 'delete'] as const) {
        const response = await api.call(call[0], call[1], { as, body });
        seen.push(`${call[0]} ${call[1].replace(base, '')} as ${as}: ${response.status}`);
        if (response.status === 403) expect(response.body.error.message).toContain(`lacks Channel.${permission}`);
      }
    }
    const expected = endpoints.flatMap(({ call, permission, allowed }) =>
      (['none', 'view', 'create', 'delete'] as const).map((as) => `${call[0]} ${call[1].replace(base, '')} as ${as}: ${as === permission ? allowed : 403}`),
    );
    expect(seen).toEqual(expected);
  });

  it('GET list: with Channel.view, the setup with its cached dns_verified; 403 without', async () => {
    const response = await api.call('GET', `${base}?limit=20`, { as: 'view' });
    expect(response.status).toBe(200);
    check(LIST, 'GET', response);
    const item = (await listAll(api)).find((i) => i.id === setupId);
    expect(item).toMatchObject({ tenant_name: tenant, domain_identity: domain, dns_verified: false });
    expect(response.body.total).toBeGreaterThanOrEqual(1);
    for (const as of ['none', 'create', 'delete'] as const) {
      const refused = await api.call('GET', base, { as });
      expect(refused.status).toBe(403);
      expect(refused.body.error.permission).toBe('Channel.view');
    }
  });

  it('GET detail runs a live check: a newly published record is found verified in the answer', async () => {
    const before = await api.call('GET', `${base}/${setupId}`, { as: 'view' });
    expect(before.status).toBe(200);
    check(ONE, 'GET', before);
    expect(before.body.refreshed).toBe(true);
    const mx = before.body.dns_records.find((r: { type: string }) => r.type === 'MX');
    expect(mx).toMatchObject({ verified: false });
    expect(mx.message).not.toBe('');
    await publishRecords(c.stack.dnsServer, [{ name: mx.name, type: 'MX', value: mx.value }]);
    const after = await api.call('GET', `${base}/${setupId}`, { as: 'view' });
    expect(after.status).toBe(200);
    expect(after.body.refreshed).toBe(true);
    expect(after.body.dns_records.find((r: { type: string }) => r.type === 'MX')).toMatchObject({ verified: true, message: '' });
    expect(Date.parse(after.body.dns_checked_at)).toBeGreaterThanOrEqual(Date.parse(before.body.dns_checked_at));
  });

  it('POST verify (Channel.view) checks the rest once published, until every record is verified', async () => {
    const records = (await api.call('GET', `${base}/${setupId}`)).body.dns_records as { type: 'CNAME' | 'MX' | 'TXT'; name: string; value: string }[];
    await publishRecords(
      c.stack.dnsServer,
      records.map(({ name, type, value }) => ({ name, type, value })),
    );
    await c.sim.dkimCheck();
    const verified = await waitUntil('every record verified through POST verify', async () => {
      const response = await api.call('POST', `${base}/${setupId}/verify`, { as: 'view' });
      check(`${ONE}/verify`, 'POST', response);
      return response.body.dns_verified === true && response.body.refreshed ? response.body : undefined;
    });
    expect(verified.dns_records.every((r: { verified: boolean }) => r.verified)).toBe(true);
    const refused = await api.call('POST', `${base}/${setupId}/verify`, { as: 'create' });
    expect(refused.status).toBe(403);
    // The list now carries the cached aggregate too.
    expect((await listAll(api)).find((i) => i.id === setupId)?.dns_verified).toBe(true);
  });

  it('concurrent refreshes of one setup share one live check (one GetEmailIdentity)', async () => {
    const before = (await c.sim.calls()).log.filter((call) => call.operation === 'GetEmailIdentity' && call.target === domain).length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => api.call('GET', `${base}/${setupId}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => a.body.dns_checked_at)).size).toBe(1);
    const after = (await c.sim.calls()).log.filter((call) => call.operation === 'GetEmailIdentity' && call.target === domain).length;
    expect(after - before).toBe(1);
  });

  it('DELETE answers 409 naming the use case while one references the setup, then 204; 404 once it is gone', async () => {
    await c.createUseCase(api.namespace, 'invoices', { sesSetupRef: { name: setupNameFor(tenant) }, fromAddress: `invoices@${domain}` });
    await waitUntil('the use case counted', async () => (await c.getSetup(setupNameFor(tenant)))?.status?.usedByCount === 1);
    const refused = await api.call('DELETE', `${base}/${setupId}`, { as: 'view' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.permission).toBe('Channel.delete');
    const inUse = await api.call('DELETE', `${base}/${setupId}`, { as: 'delete' });
    expect(inUse.status).toBe(409);
    check(ONE, 'DELETE', inUse);
    expect(inUse.body.error).toMatchObject({ code: 'setup_in_use', referrers: [`EmailUseCase ${api.namespace}/invoices`] });
    expect((await c.getSetup(setupNameFor(tenant)))?.metadata.deletionTimestamp).toBeUndefined();

    await c.deleteUseCase(api.namespace, 'invoices');
    const deleted = await waitUntil('204 once the use case is gone', async () => {
      const response = await api.call('DELETE', `${base}/${setupId}`, { as: 'delete' });
      return response.status === 204 ? response : undefined;
    });
    expect(deleted.text).toBe('');
    check(ONE, 'DELETE', { status: 204, body: undefined });
    await waitUntil('the SesSetup torn down', async () => (await c.getSetup(setupNameFor(tenant))) === undefined, { timeoutMs: 30_000 });
    const gone = await api.call('GET', `${base}/${setupId}`);
    expect(gone.status).toBe(404);
    check(ONE, 'GET', gone);
    expect((await api.call('DELETE', `${base}/${setupId}`, { as: 'delete' })).status).toBe(404);
  });

  it("counts requests by route, method and code in the operator's /metrics", async () => {
    const text = await (await fetch(`${api.operator.metricsUrl}/metrics`)).text();
    expect(text).toMatch(/ses_operator_api_requests_total\{route="\/v1\/\{workspace_id\}\/channels\/ses-setup",method="POST",code="201"\} 1/);
    expect(text).toMatch(
      /ses_operator_api_requests_total\{route="\/v1\/\{workspace_id\}\/channels\/ses-setup\/\{setup_id\}",method="DELETE",code="409"\} [1-9]/,
    );
    expect(text).toMatch(
      /ses_operator_api_request_duration_seconds_count\{route="\/v1\/\{workspace_id\}\/channels\/ses-setup",method="GET",code="403"\} [1-9]/,
    );
    // Alongside the operator's own series, in one registry.
    expect(text).toContain('controller_runtime_reconcile_total');
  });
});

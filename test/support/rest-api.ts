import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { cluster } from './cluster.ts';
import { deleteNamespaceNow } from './deploy.ts';
import { startOperator, type OperatorProcess } from './operator.ts';

/**
 * The REST API end to end: ServiceAccounts bound to the shipped channel roles (none, view,
 * create, delete) with real tokens, an operator serving the API over TLS on loopback, and a
 * small HTTPS client that trusts that operator's certificate.
 */
export const PERMISSION_ROLES = {
  view: 'ses-operator-channel-viewer',
  create: 'ses-operator-channel-creator',
  delete: 'ses-operator-channel-deleter',
} as const;
export type Account = 'none' | keyof typeof PERMISSION_ROLES;
export const WORKSPACE = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed JSON body (undefined when empty or not JSON). */
  body: any;
}

export interface RestApiFixture {
  namespace: string;
  operator: OperatorProcess;
  url: string;
  tokens: Record<Account, string>;
  /** One request; `token` an account, a literal token, or null for none; `body` a value (JSON) or a raw string/Buffer. */
  call(
    method: string,
    path: string,
    options?: { as?: Account | null; token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1 (openssl), as a Secret from cert-manager would carry one. */
export async function selfSignedCertificate(dir: string): Promise<{ certFile: string; keyFile: string; ca: Buffer }> {
  const [certFile, keyFile] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
    ...['-subj', '/CN=ses-operator-api', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile],
  ]);
  return { certFile, keyFile, ca: await readFile(certFile) };
}

export async function startRestApiFixture(name: string, extraArgs: string[] = []): Promise<RestApiFixture> {
  const c = cluster();
  const namespace = `${name}-${Date.now().toString(36)}`;
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  await c.installCrds();
  await c.ensureNamespace(namespace);
  await c.kubectl(['apply', '-f', join(PROJECT_ROOT, 'deploy/kustomize/base/channel-clusterroles.yaml')]);
  const accounts: Account[] = ['none', 'view', 'create', 'delete'];
  const items = accounts.flatMap((account) => [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `channel-${account}`, namespace } },
    ...(account === 'none'
      ? []
      : [
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: `${namespace}-${account}` },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PERMISSION_ROLES[account] },
            subjects: [{ kind: 'ServiceAccount', name: `channel-${account}`, namespace }],
          },
        ]),
  ]);
  await c.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  const tokens = Object.fromEntries(
    await Promise.all(
      accounts.map(async (account) => [account, (await c.kubectl(['create', 'token', `channel-${account}`, '-n', namespace, '--duration=1h'])).stdout.trim()]),
    ),
  ) as Record<Account, string>;
  const tls = await selfSignedCertificate(dir);
  const operator = await startOperator([
    ...['--api-bind-address', '127.0.0.1:0', '--api-tls-cert-file', tls.certFile, '--api-tls-key-file', tls.keyFile],
    ...extraArgs,
  ]);
  const url = String((await operator.waitForLog('starting')).api);
  const send = apiClient(url, tls.ca);
  const call: RestApiFixture['call'] = (method, path, options = {}) =>
    send(method, path, { ...options, token: options.token ?? (options.as === null ? undefined : tokens[options.as ?? 'view']) });
  return {
    namespace,
    operator,
    url,
    tokens,
    call,
    async stop() {
      await operator.stop();
      await c.kubectl(['delete', 'clusterrolebinding', ...accounts.filter((a) => a !== 'none').map((a) => `${namespace}-${a}`), '--ignore-not-found']);
      await c.kubectl(['delete', 'emailusecases,serviceaccounts', '--all', '-n', namespace, '--ignore-not-found']).catch(() => {});
      await deleteNamespaceNow(namespace);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A small HTTP(S) client for the API that trusts `ca`; `raw` sends a body as given, `body` as JSON. */
export function apiClient(url: string, ca: Buffer) {
  return (
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> => {
    const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const headers: Record<string, string> = {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    };
    const transport = url.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = transport(new URL(path, url), { method, headers, ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  };
}

/** Every item of the list, page by page (the shared cluster may hold other files' setups). */
export async function listAll(api: RestApiFixture): Promise<{ id: string; name: string; dns_verified: boolean; [field: string]: unknown }[]> {
  const items = [];
  for (let token: number | null = 0; token !== null;) {
    const response = await api.call('GET', `/v1/${WORKSPACE}/channels/ses-setup?limit=20&continuation_token=${token}`);
    if (response.status !== 200) throw new Error(`list answered ${response.status}: ${response.text}`);
    items.push(...response.body.items);
    token = response.body.continuation_token;
  }
  return items;
}

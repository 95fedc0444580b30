import http from 'node:http';
import https from 'node:https';
import { OPERATOR_VERSION } from './version.ts';

/** A failed API call, or a watch ERROR event, with the HTTP status (`code`) of its Status. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string | undefined;

  constructor(code: number, reason: string | undefined, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
  }
}

/**
 * What the runtime needs from a kubeconfig: where the API server is, and the TLS material and
 * credentials of a request. client-node's KubeConfig has this shape; so has the lighter loader in
 * src/cli/kubeconfig.ts, which spares the operator client-node's generated API code and its memory.
 */
export interface KubeAccess {
  getCurrentCluster(): { server: string; proxyUrl?: string } | null;
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

/**
 * Who the API server sees, as client-go's `<binary>/<version>`: it names each write's field manager
 * after the part before the slash (`kubectl get --show-managed-fields`), and audit logs carry it.
 * Without one, Node sends none and managedFields say "unknown".
 */
let userAgent = `ses-operator/${OPERATOR_VERSION}`;

/** For a program other than the operator (the kubectl plugin): the name its writes are managed under. */
export function setUserAgent(program: string): void {
  userAgent = `${program}/${OPERATOR_VERSION}`;
}

/** One keep-alive agent per kubeconfig: every request shares its connections. */
const agents = new WeakMap<KubeAccess, http.Agent>();

/**
 * Request options with the kubeconfig's TLS material and credentials (refreshed per request, as
 * tokens expire), over a keep-alive agent shared by every request to the cluster. client-node
 * 2.0.1's generated API classes build a new undici Agent, so a new TLS connection, for every call:
 * at thousands of writes that cost both sides CPU for handshakes and the operator native memory for
 * connections left open (bench/RESULTS.md).
 */
export async function requestOptions(kc: KubeAccess): Promise<https.RequestOptions> {
  const options: https.RequestOptions = { headers: { accept: 'application/json', 'user-agent': userAgent } };
  await kc.applyToHTTPSOptions(options);
  const cluster = kc.getCurrentCluster();
  // A proxy needs client-node's own (cached) proxy agent.
  if (cluster?.proxyUrl) return options;
  let agent = agents.get(kc);
  if (!agent) {
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options;
    agent = cluster?.server.startsWith('http:')
      ? new http.Agent({ keepAlive: true })
      : new https.Agent({ keepAlive: true, ca, cert, key, pfx, passphrase, rejectUnauthorized, servername });
    agents.set(kc, agent);
  }
  options.agent = agent;
  return options;
}

export function resourceUrl(kc: KubeAccess, path: string, query: Record<string, string | undefined> = {}): URL {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

/** Sends a request and resolves with the response when its status is 2xx; any other status becomes an ApiError. */
export async function send(
  kc: KubeAccess,
  method: string,
  url: URL,
  options: { body?: unknown; contentType?: string; signal?: AbortSignal } = {},
): Promise<http.IncomingMessage> {
  const request = await requestOptions(kc);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  // Content-Length always: Node sends a DELETE's body with neither a length nor chunked framing, so
  // the API server reads no body (a DeleteOptions' preconditions lost) and takes the body's bytes for
  // the start of the next request on that keep-alive connection (400 Bad Request).
  const bodyHeaders =
    payload === undefined ? {} : { 'content-type': options.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
  request.headers = { ...request.headers, ...bodyHeaders };
  const transport = url.protocol === 'http:' ? http.request : https.request;
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const outgoing = transport(url, { ...request, method, signal: options.signal }, resolve);
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return response;
  throw statusError(status, await readBody(response).catch(() => ''));
}

/** A JSON request: the parsed response body, or an ApiError carrying the Status the server sent. */
export async function requestJson<T>(
  kc: KubeAccess,
  method: string,
  path: string,
  options: { body?: unknown; contentType?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const response = await send(kc, method, resourceUrl(kc, path), options);
  return JSON.parse(await readBody(response)) as T;
}

/** The request's result, or undefined when the API server says the object is not there (404). */
export async function unlessNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return undefined;
    throw error;
  }
}

export async function readBody(response: http.IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response) text += chunk;
  return text;
}

function statusError(httpStatus: number, body: string): ApiError {
  let status: { code?: number; reason?: string; message?: string } = {};
  try {
    status = JSON.parse(body);
  } catch {
    // Not a Status object (a proxy's error page, ...): keep the HTTP status and the text.
  }
  return new ApiError(status.code ?? httpStatus, status.reason, status.message ?? `HTTP ${httpStatus}: ${body.slice(0, 200)}`);
}

/** `/apis/<group>/<version>[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]`; `/api/v1/...` for the core group. */
export function objectPath(ref: { group: string; version: string; plural: string }, namespace?: string, name?: string, subresource?: string): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const object = name ? `/${encodeURIComponent(name)}` : '';
  return `${base}${ns}/${ref.plural}${object}${subresource ? `/${subresource}` : ''}`;
}

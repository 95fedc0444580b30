import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseBindAddress } from '../runtime/http-endpoints.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Authorizer, Caller } from './auth.ts';
import { PERMISSIONS } from './auth.ts';
import type { Channels } from './channels.ts';
import { ApiProblem, parseOrThrow } from './errors.ts';
import type { ApiMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { isLoopback } from './loopback.ts';
import { matchRoute, type Route } from './routes.ts';
import { createBodySchema, listQuerySchema, setupPathSchema, workspacePathSchema } from './schemas.ts';

/** Bodies above this are refused before they are read in full: a create body is well under 1 KiB. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface RestApiOptions {
  bindAddress: string;
  tls?: { certFile: string; keyFile: string };
  channels: Channels;
  auth: Authorizer;
  /** The informer cache is synced: before that, lists would be wrong (503). */
  ready: () => boolean;
  metrics?: ApiMetrics;
  logger: Logger;
  version: string;
}

export interface RestApiServer {
  server: http.Server;
  url: string;
  /** Reads the certificate and key again; true when they changed (and new connections now get them). */
  reloadTls(): Promise<boolean>;
  close(): Promise<void>;
}

/** How often the TLS files are read again: cert-manager renews into the mounted Secret without a restart. */
export const TLS_RELOAD_INTERVAL_MS = 60_000;

/** Starts the REST API on bindAddress (":8443", "127.0.0.1:0"), over TLS when cert and key are given. */
export async function startRestApi(o: RestApiOptions): Promise<RestApiServer> {
  const { host, port } = parseBindAddress(o.bindAddress);
  if (!o.tls && !isLoopback(host))
    throw new Error(
      `--api-bind-address ${o.bindAddress} is not loopback: serving bearer tokens over plain HTTP is refused; set --api-tls-cert-file and --api-tls-key-file`,
    );
  const openapi = JSON.stringify(openApiDocument(o.version));
  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => void handle(o, openapi, request, response);
  const readTls = async (files: { certFile: string; keyFile: string }) => ({ cert: await readFile(files.certFile), key: await readFile(files.keyFile) });
  let tls = o.tls ? await readTls(o.tls) : undefined;
  const server = tls ? https.createServer({ ...tls, minVersion: 'TLSv1.2' }, handler) : http.createServer(handler);
  const reloadTls = async () => {
    if (!o.tls || !tls) return false;
    const fresh = await readTls(o.tls);
    if (fresh.cert.equals(tls.cert) && fresh.key.equals(tls.key)) return false;
    (server as https.Server).setSecureContext({ ...fresh, minVersion: 'TLSv1.2' });
    tls = fresh;
    o.logger.info('REST API TLS certificate reloaded');
    return true;
  };
  const reloader = o.tls
    ? setInterval(
        () => reloadTls().catch((error: unknown) => o.logger.warn({ err: error }, 'REST API TLS files unreadable; keeping the current ones')),
        TLS_RELOAD_INTERVAL_MS,
      )
    : undefined;
  reloader?.unref();
  // Slow clients must not hold connections for ever.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${o.tls ? 'https' : 'http'}://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${address.port}`;
  return {
    server,
    url,
    reloadTls,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(reloader);
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
  };
}

async function handle(o: RestApiOptions, openapi: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const started = performance.now();
  const method = request.method ?? 'GET';
  let routeLabel = 'unmatched';
  let status = 500;
  try {
    const url = new URL(request.url ?? '/', 'http://api');
    const match = matchRoute(method, url.pathname);
    if (match.kind === 'none') throw new ApiProblem(404, 'not_found', `no endpoint ${url.pathname}`);
    if (match.kind === 'wrong-method') {
      routeLabel = match.template;
      throw new ApiProblem(
        405,
        'method_not_allowed',
        `${method} is not allowed on ${match.template}; allowed: ${match.allowed.join(', ')}`,
        {},
        { allow: match.allowed.join(', ') },
      );
    }
    const { route, params } = match;
    routeLabel = route.template;
    if (route.name === 'openapi') {
      status = 200;
      send(response, 200, openapi);
      return;
    }
    if (!o.ready()) throw new ApiProblem(503, 'not_ready', 'the operator is still loading its cache; try again in a few seconds', {}, { 'retry-after': '2' });
    const caller = await authenticate(o.auth, request);
    const missing = await o.auth.missingVerbs(caller, route.permission!).catch(unavailable);
    if (missing.length > 0) {
      throw new ApiProblem(
        403,
        'forbidden',
        `${caller.username} lacks ${route.permission}: ${PERMISSIONS[route.permission!].join(' and ')} on sessetups.ses.channels.dev (missing: ${missing.join(', ')})`,
        { permission: route.permission },
      );
    }
    const answer = await dispatch(o, route, params, url, request, caller);
    status = answer.status;
    send(response, answer.status, answer.body === undefined ? undefined : JSON.stringify(answer.body));
  } catch (error) {
    const problem = error instanceof ApiProblem ? error : new ApiProblem(500, 'internal', 'internal error; the operator log has the details');
    if (!(error instanceof ApiProblem)) o.logger.error({ err: error, method, route: routeLabel }, 'REST API request failed');
    status = problem.status;
    send(response, problem.status, JSON.stringify(problem.body()), problem.headers);
  } finally {
    o.metrics?.observe(routeLabel, method, status, (performance.now() - started) / 1000);
  }
}

async function dispatch(
  o: RestApiOptions,
  route: Route,
  params: Record<string, string>,
  url: URL,
  request: http.IncomingMessage,
  caller: Caller,
): Promise<{ status: number; body?: unknown }> {
  const { channels } = o;
  switch (route.name) {
    case 'list': {
      parseOrThrow(workspacePathSchema, params, 'path');
      const query = parseOrThrow(listQuerySchema, Object.fromEntries(url.searchParams), 'query');
      return { status: 200, body: channels.list(query.continuation_token, query.limit) };
    }
    case 'create': {
      parseOrThrow(workspacePathSchema, params, 'path');
      const body = parseOrThrow(createBodySchema, await readJson(request), 'body');
      const { status, detail } = await channels.create(body, caller);
      return { status, body: detail };
    }
    case 'get':
    case 'verify': {
      const { setup_id } = parseOrThrow(setupPathSchema, params, 'path');
      return { status: 200, body: await channels.get(setup_id) };
    }
    case 'delete': {
      const { setup_id } = parseOrThrow(setupPathSchema, params, 'path');
      await channels.delete(setup_id);
      return { status: 204 };
    }
    default:
      throw new ApiProblem(404, 'not_found', `no endpoint ${url.pathname}`);
  }
}

async function authenticate(auth: Authorizer, request: http.IncomingMessage): Promise<Caller> {
  const challenge = { 'www-authenticate': 'Bearer realm="ses-operator"' };
  const header = request.headers.authorization;
  if (!header) throw new ApiProblem(401, 'unauthenticated', 'missing Authorization header: send "Authorization: Bearer <token>"', {}, challenge);
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiProblem(401, 'unauthenticated', 'the Authorization header must be "Bearer <token>"', {}, challenge);
  const caller = await auth.authenticate(match[1]!).catch(unavailable);
  if (!caller) throw new ApiProblem(401, 'unauthenticated', 'the bearer token was not accepted by the cluster (expired, revoked or unknown)', {}, challenge);
  return caller;
}

function unavailable(error: unknown): never {
  throw new ApiProblem(
    503,
    'kubernetes_unavailable',
    `the Kubernetes API did not answer the review: ${error instanceof Error ? error.message : String(error)}`,
  );
}

/** The request body as JSON: application/json only, at most MAX_BODY_BYTES. */
async function readJson(request: http.IncomingMessage): Promise<unknown> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    request.resume();
    throw new ApiProblem(415, 'unsupported_media_type', `the body must be application/json (got ${type || 'no Content-Type'})`);
  }
  const tooLarge = () => new ApiProblem(413, 'payload_too_large', `the body must be at most ${MAX_BODY_BYTES} bytes`, {}, { connection: 'close' });
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiProblem(400, 'malformed_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

function send(response: http.ServerResponse, status: number, body: string | undefined, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  response.end(body);
}

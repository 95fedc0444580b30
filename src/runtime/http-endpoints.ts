import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** A body in pieces is written piece by piece, waiting whenever the socket's buffer is full. */
export type Handler = () => Promise<{ status: number; body: string | Iterable<string>; contentType?: string }>;

/**
 * A tiny HTTP server for /metrics or /healthz + /readyz, bound like controller-runtime's
 * `--metrics-bind-address` (":8080", "127.0.0.1:0"; "0" turns it off).
 */
export async function serveEndpoints(bindAddress: string, routes: Record<string, Handler>): Promise<{ server?: Server; url?: string }> {
  if (bindAddress === '0') return {};
  const { host, port } = parseBindAddress(bindAddress);
  const server = createServer((request, response) => {
    const route = routes[(request.url ?? '/').split('?')[0]!];
    if (!route || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404).end('not found\n');
      return;
    }
    route()
      .then(async ({ status, body, contentType }) => {
        response.writeHead(status, { 'content-type': contentType ?? 'text/plain; charset=utf-8' });
        if (typeof body === 'string') return void response.end(body);
        for (const piece of body) {
          if (!response.write(piece)) await once(response, 'drain');
        }
        response.end();
      })
      .catch((error: unknown) => {
        if (response.headersSent) return void response.destroy();
        response.writeHead(500).end(`${error instanceof Error ? error.message : String(error)}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${shown === '::' || shown === '[::]' ? '127.0.0.1' : shown}:${address.port}` };
}

export function parseBindAddress(text: string): { host: string | undefined; port: number } {
  const match = /^(?:\[?([^\]]*?)\]?)?:(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`bind address "${text}" must look like :8080 or 127.0.0.1:8080 (or 0 to turn it off)`);
  const port = Number(match[2]);
  if (port > 65535) throw new Error(`bind address "${text}": port out of range`);
  return { host: match[1] || undefined, port };
}

export function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { matchRoute, targetOf } from '../../harness/simulator/routes.ts';
import { startLoopbackHttp } from '../support/loopback-http.ts';

/** One SES call as one replica made it: when it left and when its answer came back. */
export interface TappedCall {
  replica: string;
  operation: string;
  target?: string;
  status: number;
  start: number;
  end: number;
}

export interface SesTap {
  /** Give this to one replica as --ses-endpoint. */
  readonly url: string;
  readonly replica: string;
  close(): Promise<void>;
}

/**
 * An HTTP pass-through in front of the SES simulator, one per operator replica, so every SES call
 * can be attributed to the replica that made it (the simulator's own log cannot tell them apart).
 */
export class SesTapLog {
  readonly calls: TappedCall[] = [];
  readonly #upstream: URL;

  constructor(upstream: string) {
    this.#upstream = new URL(upstream);
  }

  async tap(replica: string): Promise<SesTap> {
    const server = await startLoopbackHttp((incoming, outgoing) => {
      void this.#forward(replica, incoming).then(
        ({ status, headers, body }) => {
          outgoing.writeHead(status, headers);
          outgoing.end(body);
        },
        () => {
          outgoing.writeHead(502);
          outgoing.end();
        },
      );
    });
    return { url: server.url, replica, close: () => server.close() };
  }

  async #forward(replica: string, incoming: IncomingMessage): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
    const start = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of incoming as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(incoming.url ?? '/', this.#upstream);
    let operation = 'Unknown';
    let target: string | undefined;
    try {
      const route = matchRoute(incoming.method ?? 'GET', url.pathname);
      if (route) {
        operation = route.operation;
        let parsed: Record<string, unknown> = {};
        try {
          parsed = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
        } catch {
          // not JSON: no target
        }
        target = targetOf({ body: parsed, labels: route.labels, query: url.searchParams }).target;
      }
    } catch {
      // malformed path: forwarded as is, recorded without a target
    }
    const answer = await new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>((resolve, reject) => {
      const headers = { ...incoming.headers, host: this.#upstream.host };
      const out = httpRequest(url, { method: incoming.method, headers }, (response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () => {
          const kept: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && name !== 'transfer-encoding') kept[name] = value;
          resolve({ status: response.statusCode ?? 502, headers: kept, body: Buffer.concat(parts) });
        });
        response.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });
    this.calls.push({ replica, operation, ...(target ? { target } : {}), status: answer.status, start, end: Date.now() });
    return answer;
  }
}

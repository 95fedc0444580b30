import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { closeServer, serveEndpoints, type Handler } from '../../../src/runtime/http-endpoints.ts';

let server: Server | undefined;
afterEach(async () => {
  await closeServer(server);
  server = undefined;
});

async function serve(route: Handler): Promise<string> {
  const served = await serveEndpoints('127.0.0.1:0', { '/metrics': route });
  server = served.server;
  return `${served.url!}/metrics`;
}

describe('serveEndpoints: bodies in pieces', () => {
  it('writes every piece in order, past the socket buffer (waiting for drain)', async () => {
    const piece = (i: number) => `${String(i).padStart(6, '0')} ${'x'.repeat(1_000)}\n`;
    const url = await serve(async () => ({
      status: 200,
      body: (function* () {
        for (let i = 0; i < 4_000; i++) yield piece(i);
      })(),
    }));
    const text = await (await fetch(url)).text();
    expect(text.length).toBe(4_000 * piece(0).length);
    expect(text).toBe(Array.from({ length: 4_000 }, (_, i) => piece(i)).join(''));
  });

  it('cuts the response short when a piece fails after the headers went out, instead of a truncated 200 that looks whole', async () => {
    const url = await serve(async () => ({
      status: 200,
      body: (function* () {
        yield 'first\n';
        throw new Error('broken');
      })(),
    }));
    // The client sees a failed request (before or while reading the body), never a complete answer.
    await expect(fetch(url).then((response) => response.text())).rejects.toThrow();
  });

  it('answers 500 with the message when the handler fails before writing', async () => {
    const url = await serve(async () => {
      throw new Error('no metrics');
    });
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('no metrics\n');
  });
});

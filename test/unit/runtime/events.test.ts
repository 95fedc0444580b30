import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventRecorder } from '../../../src/runtime/events.ts';
import { silentLogger } from '../../../src/runtime/logger.ts';

const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** An API server stand-in that holds each Event POST for `holdMs` and records how many were in flight at once. */
async function eventSink(holdMs: number) {
  const received: { namespace: string; reason: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      setTimeout(() => {
        inFlight--;
        const event = JSON.parse(body) as { reason: string; metadata: { namespace: string } };
        received.push({ namespace: event.metadata.namespace, reason: event.reason });
        response.writeHead(201, { 'content-type': 'application/json' }).end(body);
      }, holdMs);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kc = { getCurrentCluster: () => ({ server: url }), applyToHTTPSOptions: async () => {} };
  return { kc, received, maxInFlight: () => maxInFlight };
}

const setup = (i: number) => ({ apiVersion: 'ses.channels.dev/v1alpha1', kind: 'SesSetup', metadata: { name: `s${i}`, uid: `uid-${i}` } });

describe('EventRecorder', () => {
  it('sends every event in the background, never more than two at a time, and each (object, reason, message) once per window', async () => {
    const sink = await eventSink(20);
    const recorder = new EventRecorder(sink.kc, { component: 'test', logger: silentLogger });
    for (let i = 0; i < 10; i++) {
      recorder.emit(setup(i), 'Normal', 'TenantReady', 'created');
      recorder.emit(setup(i), 'Normal', 'TenantReady', 'created'); // a duplicate inside the window
    }
    await vi.waitFor(() => expect(sink.received).toHaveLength(10), { timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.received).toHaveLength(10);
    expect(sink.maxInFlight()).toBe(2);
    expect(sink.received.every((e) => e.namespace === 'default' && e.reason === 'TenantReady')).toBe(true);
  });
});

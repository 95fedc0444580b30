import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventRecorder } from '../../../src/runtime/events.ts';
import { silentLogger } from '../../../src/runtime/logger.ts';
import { loopbackKube, startLoopbackHttp, type LoopbackHttp } from '../../support/loopback-http.ts';

const servers: LoopbackHttp[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** An API server stand-in that holds each Event POST for `holdMs` and records how many were in flight at once. */
async function eventSink(holdMs: number) {
  const received: { namespace: string; reason: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = await startLoopbackHttp((request, response) => {
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
  return { kc: loopbackKube(server.url), received, maxInFlight: () => maxInFlight };
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

  it('counts the events not sent yet, drops those past a thousand waiting, and reaches zero once all are sent', async () => {
    const sink = await eventSink(1);
    let dropped = 0;
    const recorder = new EventRecorder(sink.kc, { component: 'test', logger: silentLogger, onDropped: () => dropped++ });
    expect(recorder.pending()).toBe(0);
    for (let i = 0; i < 1_005; i++) recorder.emit(setup(i), 'Normal', 'Verified', 'ready');
    // Two on their way, a thousand waiting, three dropped.
    expect(recorder.pending()).toBe(1_002);
    expect(dropped).toBe(3);
    await vi.waitFor(() => expect(recorder.pending()).toBe(0), { timeout: 10_000 });
    expect(sink.received).toHaveLength(1_002);
  });
});

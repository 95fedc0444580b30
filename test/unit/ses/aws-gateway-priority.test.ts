import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsSesGateway } from '../../../src/ses/aws-gateway.ts';
import type { SesCallPriority } from '../../../src/ses/gateway.ts';
import { RateLimiter } from '../../../src/ses/rate-limiter.ts';
import { startLoopbackHttp, type LoopbackHttp } from '../../support/loopback-http.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** An SES endpoint answering GetTenant for any name (or failing every request with a 500 while `failing`), recording the names asked for in order. */
let server: LoopbackHttp;
let endpoint: string;
let asked: string[];
let failing: boolean;
beforeEach(async () => {
  asked = [];
  failing = false;
  server = await startLoopbackHttp((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const name = (JSON.parse(body || '{}') as { TenantName?: string }).TenantName ?? '?';
      asked.push(name);
      if (failing) {
        response.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalFailure' });
        response.end(JSON.stringify({ message: 'try again' }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ Tenant: { TenantName: name, TenantId: `tn-${name}`, TenantArn: `arn:aws:ses:us-east-1:123456789012:tenant/${name}/tn-${name}` } }),
      );
    });
  });
  endpoint = server.url;
});
afterEach(() => server.close());

describe('AwsSesGateway: the call priority reaches the shared rate limiter', () => {
  it('answers an urgent call issued while routine calls wait for the limiter before them', async () => {
    // The clock stands still until every call is queued, so no token comes back before then.
    let paused = true;
    const pausedAt = performance.now();
    const limiter = new RateLimiter({ ratePerSecond: 10, now: () => (paused ? pausedAt : performance.now()) });
    await limiter.acquire();
    const gateway = new AwsSesGateway({ rateLimiter: limiter, endpoint, credentials });
    try {
      const answered: string[] = [];
      const get = (name: string, priority?: SesCallPriority) =>
        gateway.getTenant('us-east-1', name, { priority }).then((tenant) => answered.push(tenant!.name));
      const calls = [get('routine-1'), get('routine-2', 'routine'), get('routine-3')];
      await vi.waitFor(() => expect(limiter.waitingFor('routine')).toBe(3));
      calls.push(get('urgent', 'urgent'));
      await vi.waitFor(() => expect(limiter.waitingFor('urgent')).toBe(1));
      paused = false;
      await Promise.all(calls);
      expect(asked).toEqual(['urgent', 'routine-1', 'routine-2', 'routine-3']);
      expect(answered).toEqual(['urgent', 'routine-1', 'routine-2', 'routine-3']);
    } finally {
      gateway.destroy();
    }
  });

  it('passes an announced urgent call on to the shared rate limiter', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1 });
    const gateway = new AwsSesGateway({ rateLimiter: limiter, endpoint, credentials });
    try {
      gateway.expectUrgentCallIn(3_000);
      expect(limiter.holds).toBe(1);
    } finally {
      gateway.destroy();
    }
  });

  it("waits with the call's own priority at every attempt, retries included, however calls interleave", async () => {
    failing = true;
    const limiter = new RateLimiter({ ratePerSecond: 1000, burst: 100 });
    const waits: { signal: AbortSignal | undefined; priority: SesCallPriority | undefined }[] = [];
    const acquire = limiter.acquire.bind(limiter);
    limiter.acquire = (signal, priority) => {
      waits.push({ signal, priority });
      return acquire(signal, priority);
    };
    const gateway = new AwsSesGateway({ rateLimiter: limiter, endpoint, credentials, maxAttempts: 3 });
    try {
      const signals = { urgent: new AbortController().signal, routine: new AbortController().signal, unset: new AbortController().signal };
      await Promise.allSettled([
        gateway.getTenant('us-east-1', 'a', { signal: signals.urgent, priority: 'urgent' }),
        gateway.getTenant('us-east-1', 'b', { signal: signals.routine, priority: 'routine' }),
        gateway.getTenant('us-east-1', 'c', { signal: signals.unset }),
      ]);
      expect(asked).toHaveLength(9);
      const by = (signal: AbortSignal) => waits.filter((wait) => wait.signal === signal).map((wait) => wait.priority);
      expect(by(signals.urgent)).toEqual(['urgent', 'urgent', 'urgent']);
      expect(by(signals.routine)).toEqual(['routine', 'routine', 'routine']);
      expect(by(signals.unset)).toEqual(['routine', 'routine', 'routine']);
    } finally {
      gateway.destroy();
    }
  });
});

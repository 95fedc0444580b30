import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsSesGateway } from '../../../src/ses/aws-gateway.ts';
import { RateLimiter } from '../../../src/ses/rate-limiter.ts';
import { startLoopbackHttp, type LoopbackHttp } from '../../support/loopback-http.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** An SES endpoint that takes every request and never answers, recording which connections the client closed. */
let server: LoopbackHttp;
let endpoint: string;
let requests: string[];
let closed: number;
beforeEach(async () => {
  requests = [];
  closed = 0;
  server = await startLoopbackHttp((request) => {
    requests.push(`${request.method} ${request.url}`);
    request.socket.once('close', () => closed++);
  });
  endpoint = server.url;
});
afterEach(() => server.close());

describe('AwsSesGateway: an aborted signal ends the call', () => {
  it('ends an SES request that never gets an answer, without a retry, and closes its connection', async () => {
    const gateway = new AwsSesGateway({ rateLimiter: new RateLimiter({ ratePerSecond: 100, burst: 10 }), endpoint, credentials, maxAttempts: 3 });
    try {
      const abort = new AbortController();
      const reason = new Error('controller stopped');
      const call = gateway.getTenant('us-east-1', 'acme', { signal: abort.signal });
      await vi.waitFor(() => expect(requests).toEqual(['POST /v2/email/tenants/get']));
      const started = performance.now();
      abort.abort(reason);
      await expect(call).rejects.toBe(reason);
      expect(performance.now() - started).toBeLessThan(1_000);
      await vi.waitFor(() => expect(closed).toBe(1));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(requests).toHaveLength(1);
    } finally {
      gateway.destroy();
    }
  });

  it('ends a call still waiting for the shared rate limiter, before it reaches SES', async () => {
    const limiter = new RateLimiter({ ratePerSecond: 0.01 });
    await limiter.acquire(); // the only token: the next call waits about 100 s
    const gateway = new AwsSesGateway({ rateLimiter: limiter, endpoint, credentials });
    try {
      const abort = new AbortController();
      const call = gateway.createEmailIdentity('us-east-1', 'example.com', {}, { signal: abort.signal });
      await vi.waitFor(() => expect(limiter.waiting).toBe(1));
      abort.abort(new Error('shutting down'));
      await expect(call).rejects.toThrow('shutting down');
      expect(limiter.waiting).toBe(0);
      expect(requests).toEqual([]);
    } finally {
      gateway.destroy();
    }
  });

  it('does not start a call whose signal is already aborted', async () => {
    const gateway = new AwsSesGateway({ rateLimiter: new RateLimiter({ ratePerSecond: 100 }), endpoint, credentials });
    try {
      await expect(gateway.deleteTenant('us-east-1', 'acme', { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
      expect(requests).toEqual([]);
    } finally {
      gateway.destroy();
    }
  });
});

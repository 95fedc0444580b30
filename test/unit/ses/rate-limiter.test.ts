import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/ses/rate-limiter.ts';

describe('RateLimiter', () => {
  it('lets calls through at the configured rate, first come first served', async () => {
    const limiter = new RateLimiter({ ratePerSecond: 20 });
    const started = performance.now();
    const order: number[] = [];
    await Promise.all(Array.from({ length: 11 }, (_, i) => limiter.acquire().then(() => order.push(i))));
    const elapsed = performance.now() - started;
    // One token at once, then ten more at 20/s: about 500 ms.
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(900);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('allows a burst when configured', async () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 5 });
    const started = performance.now();
    for (let i = 0; i < 5; i++) await limiter.acquire();
    expect(performance.now() - started).toBeLessThan(50);
    expect(limiter.waiting).toBe(0);
  });

  it('gives up a waiting place when its signal aborts, and serves the next waiter in its stead', async () => {
    const limiter = new RateLimiter({ ratePerSecond: 20 });
    await limiter.acquire();
    const abort = new AbortController();
    const given = limiter.acquire(abort.signal);
    const next = limiter.acquire();
    expect(limiter.waiting).toBe(2);
    const reason = new Error('reconcile given up');
    abort.abort(reason);
    await expect(given).rejects.toBe(reason);
    expect(limiter.waiting).toBe(1);
    const started = performance.now();
    await next;
    // The aborted caller took no token: the next one is served at the first refill.
    expect(performance.now() - started).toBeLessThan(90);
    await expect(limiter.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new RateLimiter({ ratePerSecond: 0 })).toThrow(/rate must be > 0/);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SesCallPriority } from '../../../src/ses/gateway.ts';
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

describe('RateLimiter: urgent calls first, routine work kept going', () => {
  // The limiter reads the injected clock; fake timers move it and fire its refill timer together.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** One token a second, the only one taken: every acquire below waits its turn. */
  async function busyLimiter() {
    const limiter = new RateLimiter({ ratePerSecond: 1, now: () => Date.now() });
    await limiter.acquire();
    const served: string[] = [];
    const take = (name: string, priority: SesCallPriority, signal?: AbortSignal) =>
      limiter.acquire(signal, priority).then(() => {
        served.push(name);
      });
    return { limiter, served, take };
  }

  it('takes a token at once when nothing waits, of either class', async () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, now: () => Date.now() });
    const order: string[] = [];
    const first = limiter.acquire(undefined, 'routine').then(() => order.push('routine'));
    const second = limiter.acquire(undefined, 'urgent').then(() => order.push('urgent'));
    await Promise.all([first, second]);
    expect(order).toEqual(['routine', 'urgent']);
    expect(limiter.waiting).toBe(0);
    // The bucket is empty now: the next call waits for the refill.
    let third = false;
    void limiter.acquire(undefined, 'urgent').then(() => (third = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(third).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(third).toBe(true);
  });

  it('serves urgent waiters before routine ones that came earlier, each class in arrival order', async () => {
    const { limiter, served, take } = await busyLimiter();
    for (const [name, priority] of [
      ['r1', 'routine'],
      ['u1', 'urgent'],
      ['r2', 'routine'],
      ['u2', 'urgent'],
      ['r3', 'routine'],
      ['u3', 'urgent'],
    ] as const)
      void take(name, priority);
    expect([limiter.waitingFor('urgent'), limiter.waitingFor('routine')]).toEqual([3, 3]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(served).toEqual(['u1']);
    await vi.advanceTimersByTimeAsync(5_000);
    // After three urgent ones in a row the oldest routine waiter has its turn; then routine alone is left.
    expect(served).toEqual(['u1', 'u2', 'u3', 'r1', 'r2', 'r3']);
    expect(limiter.waiting).toBe(0);
  });

  it('gives routine waiters one token in four under a continuous urgent load', async () => {
    const { limiter, served, take } = await busyLimiter();
    for (let i = 1; i <= 10; i++) void take(`r${i}`, 'routine');
    // Urgent work that never lets up: each urgent call served is followed by a new one.
    let urgent = 0;
    const moreUrgent = (): void => void take(`u${++urgent}`, 'urgent').then(moreUrgent);
    for (let i = 0; i < 3; i++) moreUrgent();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(served).toHaveLength(20);
    expect(served.filter((name) => name.startsWith('r'))).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(served.slice(0, 8)).toEqual(['u1', 'u2', 'u3', 'r1', 'u4', 'u5', 'u6', 'r2']);
    expect(limiter.waitingFor('routine')).toBe(5);
    expect(limiter.waitingFor('urgent')).toBe(3);
  });

  it('keeps the token for an urgent call announced ahead: routine waiters leave it, and take the next one', async () => {
    const { limiter, served, take } = await busyLimiter();
    const started = Date.now();
    const at: Record<string, number> = {};
    const timed = (name: string, priority: SesCallPriority) => take(name, priority).then(() => void (at[name] = Date.now() - started));
    for (let i = 1; i <= 3; i++) void timed(`r${i}`, 'routine');
    limiter.expectUrgentIn(2_500);
    expect(limiter.holds).toBe(1);
    await vi.advanceTimersByTimeAsync(2_500);
    // r1 took the token at 1 s: another comes by 2 s, in time. The token of 2 s is the announced call's.
    expect(served).toEqual(['r1']);
    void timed('re-check', 'urgent');
    await vi.advanceTimersByTimeAsync(0);
    expect(at['re-check']).toBe(2_500);
    expect(limiter.holds).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(served).toEqual(['r1', 're-check', 'r2', 'r3']);
    expect([at.r1, at.r2, at.r3]).toEqual([1_000, 3_500, 4_500]);
  });

  it('lets routine waiters go once an announced call is a refill time overdue (it never came)', async () => {
    const { limiter, served, take } = await busyLimiter();
    void take('r1', 'routine');
    limiter.expectUrgentIn(500);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(served).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(served).toEqual(['r1']);
    expect(limiter.holds).toBe(0);
  });

  it('keeps routine work going when announced urgent calls follow one another: its turn after three', async () => {
    const { limiter, served, take } = await busyLimiter();
    for (let i = 1; i <= 3; i++) void take(`r${i}`, 'routine');
    // An urgent call announced for every second, each made on time.
    for (let second = 1; second <= 8; second++) {
      limiter.expectUrgentIn(second * 1_000 - (Date.now() % 1_000));
    }
    for (let second = 1; second <= 8; second++) {
      await vi.advanceTimersByTimeAsync(1_000);
      void take(`u${second}`, 'urgent');
    }
    await vi.advanceTimersByTimeAsync(1_000);
    expect(served.filter((name) => name.startsWith('r'))).toEqual(['r1', 'r2']);
    expect(served.slice(0, 5)).toEqual(['u1', 'u2', 'u3', 'r1', 'u4']);
  });

  it('gives up an aborted place in either queue, and the token goes to the next waiter by the same rules', async () => {
    const { limiter, served, take } = await busyLimiter();
    const [routineAbort, urgentAbort] = [new AbortController(), new AbortController()];
    const r1 = take('r1', 'routine', routineAbort.signal);
    void take('r2', 'routine');
    const u1 = take('u1', 'urgent', urgentAbort.signal);
    void take('u2', 'urgent');
    const [routineReason, urgentReason] = [new Error('routine given up'), new Error('urgent given up')];
    urgentAbort.abort(urgentReason);
    routineAbort.abort(routineReason);
    await expect(u1).rejects.toBe(urgentReason);
    await expect(r1).rejects.toBe(routineReason);
    expect([limiter.waitingFor('urgent'), limiter.waitingFor('routine')]).toEqual([1, 1]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(served).toEqual(['u2']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(served).toEqual(['u2', 'r2']);
    await expect(limiter.acquire(AbortSignal.abort(urgentReason), 'urgent')).rejects.toBe(urgentReason);
    expect(limiter.waiting).toBe(0);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BucketRateLimiter, defaultControllerRateLimiter, ExponentialFailureRateLimiter, MaxOfRateLimiter } from '../../../src/runtime/queue-rate-limiters.ts';
import { WorkQueue } from '../../../src/runtime/work-queue.ts';

describe('BucketRateLimiter: one bucket for all keys', () => {
  it('lets a burst through at once, then spaces retries at the rate, reserving ahead like rate.Limiter', () => {
    let now = 0;
    const bucket = new BucketRateLimiter({ ratePerSecond: 10, burst: 100, now: () => now });
    const first = Array.from({ length: 100 }, (_, i) => bucket.when(`key-${i}`));
    expect(first.every((delay) => delay === 0)).toBe(true);
    expect([bucket.when('x'), bucket.when('y'), bucket.when('x')]).toEqual([100, 200, 300]);
    now += 1_000; // 10 tokens back; 3 were reserved ahead
    expect(Array.from({ length: 7 }, () => bucket.when('z'))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(bucket.when('z')).toBeCloseTo(100, 6);
    expect(bucket.numRequeues('z')).toBe(0);
  });

  it('never holds more than the burst however long it was idle', () => {
    let now = 0;
    const bucket = new BucketRateLimiter({ ratePerSecond: 10, burst: 2, now: () => now });
    now += 3_600_000;
    expect([bucket.when('a'), bucket.when('a'), bucket.when('a')]).toEqual([0, 0, 100]);
  });
});

describe('defaultControllerRateLimiter: per-key backoff and the overall bucket, max-of', () => {
  it('gives a key its exponential backoff while the bucket has tokens', () => {
    const limiter = defaultControllerRateLimiter();
    expect([1, 2, 3].map(() => limiter.when('a'))).toEqual([5, 10, 20]);
    expect(limiter.numRequeues('a')).toBe(3);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  it('spaces first failures of many keys at 10/s once the burst of 100 is spent', () => {
    vi.useFakeTimers();
    try {
      const limiter = defaultControllerRateLimiter();
      const delays = Array.from({ length: 120 }, (_, i) => limiter.when(`key-${i}`));
      expect(delays.slice(0, 100).every((delay) => delay === 5)).toBe(true);
      expect(delays[100]).toBe(100);
      expect(delays[119]).toBe(2_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('takes the longest delay of its limiters, and counts the failure in each', () => {
    const slow = new ExponentialFailureRateLimiter({ baseDelayMs: 1_000 });
    const fast = new ExponentialFailureRateLimiter({ baseDelayMs: 1 });
    const limiter = new MaxOfRateLimiter(fast, slow);
    expect([limiter.when('a'), limiter.when('a')]).toEqual([1_000, 2_000]);
    expect(fast.numRequeues('a')).toBe(2);
    limiter.forget('a');
    expect(slow.numRequeues('a')).toBe(0);
  });
});

describe('WorkQueue: overall retry rate by default', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('releases 100 rate-limited keys after their backoff, the next ones at 10 per second', async () => {
    const queue = new WorkQueue();
    for (let i = 0; i < 130; i++) queue.addRateLimited(`key-${i}`);
    await vi.advanceTimersByTimeAsync(5);
    expect(queue.len()).toBe(100);
    await vi.advanceTimersByTimeAsync(1_000 - 5);
    expect(queue.len()).toBe(110);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(queue.len()).toBe(130);
    queue.shutDown();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExponentialFailureRateLimiter, WorkQueue } from '../../../src/runtime/work-queue.ts';
import { recordingQueueMetrics } from '../../support/fakes/index.ts';

/** Settles a promise that may never resolve: 'pending' when it has not after a few microtask turns. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(resolve, 'pending'))]);
}

/** Takes every key that is ready now (or the first `limit`), marking each done at once. */
async function drainReady(queue: WorkQueue, limit = Infinity): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0 && keys.length < limit) {
    const key = (await queue.get())!;
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe('WorkQueue: add / get / done', () => {
  it('collapses duplicate keys and hands them out in FIFO order', async () => {
    const queue = new WorkQueue();
    for (const key of ['a', 'b', 'a', 'c', 'b']) queue.add(key);
    expect(queue.len()).toBe(3);
    expect(await drainReady(queue)).toEqual(['a', 'b', 'c']);
  });

  it('never hands a key to a second worker while the first has not called done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    const second = queue.get();
    expect(await peek(second)).toBe('pending');
    queue.done('a');
    expect(await second).toBe('a');
  });

  it('re-queues a key added during processing exactly once, when done is called', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    await queue.get();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(queue.len()).toBe(1);
    queue.done('a');
    expect(queue.len()).toBe(2);
    expect(await drainReady(queue)).toEqual(['b', 'a']);
  });

  it('does not re-queue a key that was not added again while processing', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    await queue.get();
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('resolves a waiting get() as soon as a key is added, one key per waiter', async () => {
    const queue = new WorkQueue();
    const first = queue.get();
    const second = queue.get();
    queue.add('a');
    expect(await first).toBe('a');
    expect(await peek(second)).toBe('pending');
    queue.add('a'); // in flight: must not reach the second waiter
    expect(await peek(second)).toBe('pending');
    queue.add('b');
    expect(await second).toBe('b');
  });

  it('ignores done() for a key it never handed out', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.done('a');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
  });
});

describe('WorkQueue: addAfter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('adds the key only once the delay has passed', async () => {
    const queue = new WorkQueue();
    queue.addAfter('a', 1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(queue.len()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(queue.len()).toBe(1);
  });

  it('keeps the earlier time when an earlier delay follows a later one', async () => {
    const queue = new WorkQueue();
    queue.addAfter('a', 10_000);
    queue.addAfter('a', 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await drainReady(queue)).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(queue.len()).toBe(0);
  });

  it('keeps the earlier time when a later delay follows an earlier one', async () => {
    const queue = new WorkQueue();
    queue.addAfter('a', 100);
    queue.addAfter('a', 10_000);
    await vi.advanceTimersByTimeAsync(100);
    expect(await drainReady(queue)).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(queue.len()).toBe(0);
  });

  it('adds at once for a zero or negative delay', () => {
    const queue = new WorkQueue();
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    expect(queue.len()).toBe(2);
  });

  it('uses one timer for 10,000 waiting keys and releases them in time order', async () => {
    const queue = new WorkQueue();
    const delays = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      // Descending first (every add moves the earliest time), then scattered.
      const delay = i < 5_000 ? 5_000 - i : 1 + ((i * 7919) % 5_000);
      delays.set(`k${i}`, delay);
      queue.addAfter(`k${i}`, delay);
    }
    expect(vi.getTimerCount()).toBe(1);
    const released: string[] = [];
    for (let t = 0; t < 5_000; t += 250) {
      await vi.advanceTimersByTimeAsync(250);
      released.push(...(await drainReady(queue)));
    }
    expect(released).toHaveLength(10_000);
    const times = released.map((key) => delays.get(key)!);
    // Keys released in one 250 ms step may come in any order, but never from a later step.
    const steps = times.map((delay) => Math.ceil(delay / 250));
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not keep the process alive with its timer', () => {
    vi.useRealTimers();
    const queue = new WorkQueue();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    queue.addAfter('a', 60_000);
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
    queue.shutDown();
  });
});

describe('WorkQueue: dueFirst', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A queue holding fresh keys f1..f{fresh} and, added after them, due keys d1..d{due}. */
  async function mixed(options: { dueFirst: boolean }, fresh: number, due: number): Promise<WorkQueue> {
    const queue = new WorkQueue(options);
    for (let i = 1; i <= due; i++) queue.addAfter(`d${i}`, 100 + i);
    for (let i = 1; i <= fresh; i++) queue.add(`f${i}`);
    await vi.advanceTimersByTimeAsync(200);
    return queue;
  }

  it('hands out keys whose delay ran out before keys added directly, three in a row, then one added directly', async () => {
    const queue = await mixed({ dueFirst: true }, 3, 5);
    expect(await drainReady(queue)).toEqual(['d1', 'd2', 'd3', 'f1', 'd4', 'd5', 'f2', 'f3']);
  });

  it('keeps plain FIFO order without the option, as client-go does', async () => {
    const queue = await mixed({ dueFirst: false }, 3, 2);
    expect(await drainReady(queue)).toEqual(['f1', 'f2', 'f3', 'd1', 'd2']);
  });

  it('leaves a key already queued by a direct add where it was when its delay runs out', async () => {
    const queue = new WorkQueue({ dueFirst: true });
    queue.add('f1');
    queue.add('x');
    queue.addAfter('x', 100);
    queue.addAfter('d1', 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await drainReady(queue)).toEqual(['d1', 'f1', 'x']);
  });

  it('puts a key that fell due while being processed among the due keys once done', async () => {
    const queue = new WorkQueue({ dueFirst: true });
    queue.add('x');
    const key = await queue.get();
    queue.addAfter('x', 100);
    queue.add('f1');
    queue.add('f2');
    await vi.advanceTimersByTimeAsync(100);
    queue.done(key!);
    expect(queue.len()).toBe(3);
    expect(await drainReady(queue)).toEqual(['x', 'f1', 'f2']);
  });
});

describe('WorkQueue: routine keys', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A dueFirst queue holding these keys, each fallen due after a routine addAfter. */
  async function withRoutineDue(...keys: string[]): Promise<WorkQueue> {
    const queue = new WorkQueue({ dueFirst: true });
    for (const key of keys) queue.addAfter(key, 100, 'routine');
    await vi.advanceTimersByTimeAsync(100);
    return queue;
  }

  it('hands out a due urgent key before routine keys that fell due earlier', async () => {
    const queue = new WorkQueue({ dueFirst: true });
    for (let i = 1; i <= 5; i++) queue.addAfter(`r${i}`, 100 + i, 'routine');
    queue.addAfter('new', 200);
    await vi.advanceTimersByTimeAsync(200);
    expect(queue.len()).toBe(6);
    expect(await drainReady(queue)).toEqual(['new', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('puts keys added directly (watch events) before routine ones too', async () => {
    const queue = await withRoutineDue('r1', 'r2');
    queue.add('f1');
    expect(await drainReady(queue)).toEqual(['f1', 'r1', 'r2']);
  });

  it('keeps one turn in four for routine keys while urgent ones keep coming (counted only while both wait)', async () => {
    const queue = new WorkQueue({ dueFirst: true });
    queue.add('before');
    queue.add('before2');
    queue.add('before3');
    expect(await drainReady(queue)).toEqual(['before', 'before2', 'before3']);
    queue.addAfter('r1', 100, 'routine');
    queue.addAfter('r2', 100, 'routine');
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 1; i <= 7; i++) queue.add(`f${i}`);
    expect(await drainReady(queue)).toEqual(['f1', 'f2', 'f3', 'r1', 'f4', 'f5', 'f6', 'r2', 'f7']);
  });

  it('lifts a queued routine key to urgent when it is added again as urgent (the higher priority wins; due, it goes first)', async () => {
    const queue = await withRoutineDue('r1', 'r2');
    queue.add('f1');
    queue.add('r2');
    queue.add('r1', 'routine');
    expect(queue.len()).toBe(3);
    expect(await drainReady(queue)).toEqual(['r2', 'f1', 'r1']);
  });

  it('hands out a key lifted to urgent once, and in its new place when it comes back as routine', async () => {
    const queue = await withRoutineDue('r1', 'r2');
    queue.add('r1');
    expect(await drainReady(queue, 1)).toEqual(['r1']);
    queue.addAfter('r1', 100, 'routine');
    await vi.advanceTimersByTimeAsync(100);
    expect(queue.len()).toBe(2);
    expect(await drainReady(queue)).toEqual(['r2', 'r1']);
  });

  it('treats a delayed key as urgent if any of its requests was, keeping the earliest time', async () => {
    const queue = new WorkQueue({ dueFirst: true });
    queue.addAfter('r1', 50, 'routine');
    queue.addAfter('x', 100, 'routine');
    queue.addAfter('x', 300);
    queue.addAfter('y', 100);
    queue.addAfter('y', 50, 'routine');
    await vi.advanceTimersByTimeAsync(100);
    expect(await drainReady(queue)).toEqual(['y', 'x', 'r1']);
  });

  it('queues a routine key that fell due while in flight as routine once done, and an urgent add lifts it', async () => {
    const queue = new WorkQueue({ dueFirst: true });
    queue.add('x');
    queue.add('y');
    const x = (await queue.get())!;
    const y = (await queue.get())!;
    queue.addAfter('x', 100, 'routine');
    queue.addAfter('y', 100, 'routine');
    await vi.advanceTimersByTimeAsync(100);
    queue.add('y');
    queue.add('f1');
    queue.done(x);
    queue.done(y);
    expect(await drainReady(queue)).toEqual(['y', 'f1', 'x']);
  });

  it('forgets routine delays on shutdown', async () => {
    const queue = new WorkQueue();
    queue.addAfter('r1', 100, 'routine');
    queue.shutDown();
    await vi.advanceTimersByTimeAsync(200);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });
});

describe('WorkQueue: routineInFlightLimit', () => {
  it('keeps routine keys in flight within routineInFlightLimit, so a free worker is left for an urgent key', async () => {
    const queue = new WorkQueue({ dueFirst: true, routineInFlightLimit: 2 });
    for (const key of ['r1', 'r2', 'r3']) queue.add(key, 'routine');
    expect([await queue.get(), await queue.get()]).toEqual(['r1', 'r2']);
    const third = queue.get();
    expect(await peek(third)).toBe('pending');
    queue.add('new');
    expect(await peek(third)).toBe('new');
    // The limit frees a slot when a routine key is done, and a waiting worker takes the held key.
    const fourth = queue.get();
    queue.done('new');
    expect(await peek(fourth)).toBe('pending');
    queue.done('r1');
    expect(await peek(fourth)).toBe('r3');
  });

  it('counts a routine key taken again as routine after done against the limit once, and an urgent key in flight not at all', async () => {
    const queue = new WorkQueue({ routineInFlightLimit: 1 });
    queue.add('u');
    queue.add('r1', 'routine');
    expect([await queue.get(), await queue.get()]).toEqual(['u', 'r1']);
    queue.add('r1', 'routine');
    queue.add('r2', 'routine');
    const waiting = queue.get();
    queue.done('r1');
    // r1 came back while in flight: it goes to the waiting worker and holds the one routine slot.
    expect(await peek(waiting)).toBe('r1');
    expect(await peek(queue.get())).toBe('pending');
    expect(queue.len()).toBe(1);
  });
});

describe('WorkQueue: rate limiting', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('backs off exponentially from 5 ms per key, capped at 1000 s, and forget resets it', () => {
    const limiter = new ExponentialFailureRateLimiter();
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(5);
    for (let i = 0; i < 40; i++) limiter.when('a');
    expect(limiter.when('a')).toBe(1_000_000);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  it('takes a configured base and maximum', () => {
    const limiter = new ExponentialFailureRateLimiter({ baseDelayMs: 100, maxDelayMs: 350 });
    expect([1, 2, 3, 4].map(() => limiter.when('a'))).toEqual([100, 200, 350, 350]);
  });

  it('addRateLimited delays by the growing backoff; forget and numRequeues go through the limiter', async () => {
    const queue = new WorkQueue();
    const availableAfter = async (): Promise<number> => {
      queue.addRateLimited('a');
      let waited = 0;
      while (queue.len() === 0) {
        await vi.advanceTimersByTimeAsync(1);
        waited++;
      }
      await drainReady(queue);
      return waited;
    };
    expect(await availableAfter()).toBe(5);
    expect(await availableAfter()).toBe(10);
    expect(await availableAfter()).toBe(20);
    expect(queue.numRequeues('a')).toBe(3);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    expect(await availableAfter()).toBe(5);
  });
});

describe('WorkQueue: shutdown', () => {
  it('returns undefined to waiting and later get() calls and ignores new adds', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('a');
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(queue.shuttingDown).toBe(true);
  });

  it('stops handing out keys that were already queued', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.shutDown();
    expect(await queue.get()).toBeUndefined();
  });

  it('drops delayed keys', async () => {
    vi.useFakeTimers();
    try {
      const queue = new WorkQueue();
      queue.addAfter('a', 100);
      queue.shutDown();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(queue.len()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('shutDownWithDrain waits for in-flight keys and does not re-queue dirty ones', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('b');
    const a = (await queue.get())!;
    const b = (await queue.get())!;
    queue.add('a');
    let drained: boolean | undefined;
    const draining = queue.shutDownWithDrain(10_000).then((result) => (drained = result));
    expect(await queue.get()).toBeUndefined();
    queue.done(a);
    await peek(draining);
    expect(drained).toBeUndefined();
    expect(queue.len()).toBe(0);
    queue.done(b);
    expect(await draining).toBe(true);
  });

  it('shutDownWithDrain gives up after the timeout', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    await queue.get();
    const started = Date.now();
    expect(await queue.shutDownWithDrain(50)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('shutDownWithDrain returns true at once when nothing is in flight', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    expect(await queue.shutDownWithDrain(10_000)).toBe(true);
  });
});

describe('WorkQueue: metrics', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reports depth, adds, queue latency, work duration and retries in seconds', async () => {
    const { record, provider } = recordingQueueMetrics();
    const queue = new WorkQueue({ name: 'things', metrics: provider });
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(record).toMatchObject({ depth: 2, adds: 2 });
    await vi.advanceTimersByTimeAsync(2_000);
    const key = (await queue.get())!;
    expect(record.depth).toBe(1);
    expect(record.latency).toEqual([2]);
    await vi.advanceTimersByTimeAsync(3_000);
    queue.done(key);
    expect(record.workDuration).toEqual([3]);
    queue.addRateLimited('c');
    expect(record.retries).toBe(1);
    expect([...record.names]).toEqual(['things']);
    queue.shutDown();
  });

  it('counts workqueue_retries_total for every addAfter, as client-go does: rate-limited, delayed or not, but not after shutdown', async () => {
    const { record, provider } = recordingQueueMetrics();
    const queue = new WorkQueue({ metrics: provider });
    queue.addRateLimited('a');
    queue.addAfter('b', 60_000);
    queue.addAfter('c', 0);
    expect(record.retries).toBe(3);
    queue.add('d');
    expect(record.retries).toBe(3);
    queue.shutDown();
    queue.addRateLimited('a');
    queue.addAfter('b', 1);
    expect(record.retries).toBe(3);
    queue.shutDown();
  });

  it('reports unfinished work and the longest running processor while keys are in flight', async () => {
    const { record, provider } = recordingQueueMetrics();
    const queue = new WorkQueue({ metrics: provider, metricsUpdatePeriodMs: 500 });
    queue.add('a');
    await queue.get();
    await vi.advanceTimersByTimeAsync(1_000);
    queue.add('b');
    await queue.get();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(record.longest.at(-1)).toBeCloseTo(2);
    expect(record.unfinished.at(-1)).toBeCloseTo(3);
    queue.done('a');
    queue.done('b');
    await vi.advanceTimersByTimeAsync(500);
    expect(record.unfinished.at(-1)).toBe(0);
    queue.shutDown();
  });
});

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Controller, isTerminalError, TerminalError, type Reconcile } from '../../../src/runtime/controller.ts';
import { WorkQueue } from '../../../src/runtime/work-queue.ts';
import { recordingControllerMetrics, recordingLogger } from '../../support/fakes/index.ts';

/** Records when (fake clock, ms since the test began) each key was reconciled. */
function callLog() {
  const started = Date.now();
  const calls: { key: string; at: number }[] = [];
  const note = (key: string) => calls.push({ key, at: Date.now() - started });
  return { calls, note, times: (key: string) => calls.filter((c) => c.key === key).map((c) => c.at) };
}

const controllers: Controller[] = [];
function startController(options: ConstructorParameters<typeof Controller>[0]): Controller {
  const controller = new Controller(options);
  controllers.push(controller);
  controller.start();
  return controller;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(controllers.splice(0).map((c) => c.stop(1_000)));
});

describe('Controller: requeue rules', () => {
  beforeEach(() => vi.useFakeTimers());

  it('forgets the key after a success, resetting its error backoff', async () => {
    let failures = 2;
    const { calls, note, times } = callLog();
    const controller = startController({
      name: 'c',
      reconcile: async (key) => {
        note(key);
        if (failures-- > 0) throw new Error('transient');
      },
    });
    controller.queue.add('a');
    await vi.advanceTimersByTimeAsync(100);
    expect(times('a')).toEqual([0, 5, 15]);
    expect(controller.queue.numRequeues('a')).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(3);
  });

  it('retries a failing key with exponential backoff (5, 10, 20, 40 ms ...)', async () => {
    const { note, times } = callLog();
    const controller = startController({
      name: 'c',
      reconcile: async (key) => {
        note(key);
        throw new Error('always');
      },
    });
    controller.queue.add('a');
    await vi.advanceTimersByTimeAsync(200);
    expect(times('a')).toEqual([0, 5, 15, 35, 75, 155]);
    expect(controller.queue.numRequeues('a')).toBe(6);
  });

  it('honours the queue its caller configured (custom backoff)', async () => {
    const { note, times } = callLog();
    const { ExponentialFailureRateLimiter } = await import('../../../src/runtime/work-queue.ts');
    startController({
      name: 'c',
      queue: new WorkQueue({ rateLimiter: new ExponentialFailureRateLimiter({ baseDelayMs: 100, maxDelayMs: 150 }) }),
      reconcile: async (key) => {
        note(key);
        throw new Error('always');
      },
    }).queue.add('a');
    await vi.advanceTimersByTimeAsync(500);
    expect(times('a')).toEqual([0, 100, 250, 400]);
  });

  it('requeues after requeueAfterMs on success, and not before', async () => {
    const { note, times } = callLog();
    const controller = startController({
      name: 'c',
      reconcile: async (key) => {
        note(key);
        return { requeueAfterMs: 1_000 };
      },
    });
    controller.queue.add('a');
    await vi.advanceTimersByTimeAsync(999);
    expect(times('a')).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(times('a')).toEqual([0, 1_000, 2_000]);
  });

  it("queues requeueAfterMs with the result's priority: a routine requeue goes after keys someone waits on", async () => {
    const { note, calls } = callLog();
    const controller = startController({
      name: 'c',
      concurrency: 1,
      reconcile: async (key) => {
        note(key);
        if (calls.length > 3) return;
        // The one worker is busy until 150 ms: both requeues below fall due while it is.
        if (key === 'blocker') return void (await new Promise((resolve) => setTimeout(resolve, 150)));
        return key === 'upkeep' ? { requeueAfterMs: 50, priority: 'routine' } : { requeueAfterMs: 100 };
      },
    });
    for (const key of ['upkeep', 'waited-on', 'blocker']) controller.queue.add(key);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.map((c) => `${c.key}@${c.at}`)).toEqual(['upkeep@0', 'waited-on@0', 'blocker@0', 'waited-on@150', 'upkeep@150']);
  });

  it('reconciles an urgent key at once while routine reconciles wait on a shared budget, with routineInFlightLimit below the workers', async () => {
    const { note, calls } = callLog();
    const controller = startController({
      name: 'c',
      concurrency: 2,
      queue: new WorkQueue({ routineInFlightLimit: 1 }),
      reconcile: async (key) => {
        note(key);
        // Upkeep waiting for a token from a budget of one per second.
        if (key.startsWith('upkeep')) await new Promise((resolve) => setTimeout(resolve, 1_000));
      },
    });
    controller.queue.add('upkeep-1', 'routine');
    controller.queue.add('upkeep-2', 'routine');
    await vi.advanceTimersByTimeAsync(10);
    controller.queue.add('waited-on');
    await vi.advanceTimersByTimeAsync(1_100);
    expect(calls.map((c) => `${c.key}@${c.at}`)).toEqual(['upkeep-1@0', 'waited-on@10', 'upkeep-2@1000']);
  });

  it('requeue: true uses the rate-limited backoff', async () => {
    const { note, times } = callLog();
    const controller = startController({
      name: 'c',
      reconcile: async (key) => {
        note(key);
        return { requeue: times(key).length < 3 };
      },
    });
    controller.queue.add('a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(times('a')).toEqual([0, 5, 15]);
  });

  it('does not retry a TerminalError, forgets the key and logs it', async () => {
    const logger = recordingLogger();
    const { record, metrics } = recordingControllerMetrics();
    const { note, times } = callLog();
    let failOnce = true;
    const controller = startController({
      name: 'terminal',
      logger,
      metrics,
      reconcile: async (key) => {
        note(key);
        if (failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
        throw new TerminalError('spec is invalid');
      },
    });
    controller.queue.add('a');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(times('a')).toEqual([0, 5]);
    expect(controller.queue.numRequeues('a')).toBe(0);
    expect(record.terminal).toBe(1);
    expect(record.errors).toBe(2);
    const logged = logger.lines.find((line) => line.fields.terminal === true);
    expect(logged).toMatchObject({ level: 'error', fields: { controller: 'terminal', key: 'a' } });
    expect((logged!.fields.err as Error).message).toBe('spec is invalid');
  });

  it('treats an error caused by a TerminalError as terminal', async () => {
    expect(isTerminalError(new Error('wrapped', { cause: new TerminalError('bad') }))).toBe(true);
    expect(isTerminalError(new Error('plain', { cause: new Error('also plain') }))).toBe(false);
    expect(isTerminalError('a string')).toBe(false);
    const { note, times } = callLog();
    startController({
      name: 'c',
      reconcile: async (key) => {
        note(key);
        throw new Error('outer', { cause: new TerminalError('inner') });
      },
    }).queue.add('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(times('a')).toEqual([0]);
  });

  it('waits exactly retryAfterMs for an error that carries it, instead of the fast backoff', async () => {
    const { note, times } = callLog();
    const controller = startController({
      name: 'c',
      reconcile: async (key) => {
        note(key);
        if (times(key).length <= 3) throw Object.assign(new Error('Throttled'), { retryAfterMs: 2_000 });
      },
    });
    controller.queue.add('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(times('a')).toEqual([0, 2_000, 4_000, 6_000]);
    expect(controller.queue.numRequeues('a')).toBe(0);
  });

  it('falls back to the backoff when retryAfterMs is not a number', async () => {
    const { note, times } = callLog();
    startController({
      name: 'c',
      reconcile: async (key) => {
        note(key);
        if (times(key).length < 3) throw Object.assign(new Error('odd'), { retryAfterMs: undefined });
      },
    }).queue.add('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(times('a')).toEqual([0, 5, 15]);
  });

  it('treats a synchronous throw like a rejected promise', async () => {
    const { note, times } = callLog();
    const reconcile: Reconcile = (key) => {
      note(key);
      if (times(key).length < 2) throw new Error('sync');
      return Promise.resolve();
    };
    startController({ name: 'c', reconcile }).queue.add('a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(times('a')).toEqual([0, 5]);
  });
});

describe('Controller: concurrency', () => {
  it('runs at most `concurrency` reconciles at once, across different keys', async () => {
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    const controller = startController({
      name: 'c',
      concurrency: 3,
      reconcile: async (key) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
        done.push(key);
      },
    });
    for (let i = 0; i < 12; i++) controller.queue.add(`k${i}`);
    await vi.waitFor(() => expect(done).toHaveLength(12));
    expect(peak).toBe(3);
  });

  it('never reconciles one key twice at once, and runs it again when it changed meanwhile', async () => {
    const running = new Set<string>();
    let overlaps = 0;
    let runs = 0;
    let release!: () => void;
    const firstRunBlocked = new Promise<void>((resolve) => (release = resolve));
    const controller = startController({
      name: 'c',
      concurrency: 4,
      reconcile: async (key) => {
        if (running.has(key)) overlaps++;
        running.add(key);
        runs++;
        if (runs === 1) await firstRunBlocked;
        running.delete(key);
      },
    });
    controller.queue.add('a');
    await vi.waitFor(() => expect(runs).toBe(1));
    controller.queue.add('a');
    controller.queue.add('a');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toBe(1);
    release();
    await vi.waitFor(() => expect(runs).toBe(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toBe(2);
    expect(overlaps).toBe(0);
  });
});

describe('Controller: start-up', () => {
  it('logs once, with the count, when the work found at start-up is done (requeues after a delay do not count)', async () => {
    const logger = recordingLogger();
    const controller = new Controller({
      name: 'c',
      concurrency: 2,
      logger,
      reconcile: async (key) => (key === 'slow' ? { requeueAfterMs: 60_000 } : undefined),
    });
    for (const key of ['a', 'b', 'c', 'slow']) controller.queue.add(key);
    controllers.push(controller);
    controller.start();
    await vi.waitFor(() => expect(logger.lines.some((line) => line.message === 'initial work done')).toBe(true));
    controller.queue.add('later');
    await vi.waitFor(() => expect(controller.queue.len()).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const done = logger.lines.filter((line) => line.message === 'initial work done');
    expect(done).toHaveLength(1);
    expect(done[0]!.fields).toMatchObject({ controller: 'c', reconciles: 4 });
    expect(done[0]!.fields.ms).toBeTypeOf('number');
  });
});

describe('Controller: stop', () => {
  it('stops taking keys and waits for the in-flight reconcile to finish', async () => {
    const finished: string[] = [];
    const started: string[] = [];
    const controller = new Controller({
      name: 'c',
      concurrency: 1,
      reconcile: async (key) => {
        started.push(key);
        await new Promise((resolve) => setTimeout(resolve, 100));
        finished.push(key);
      },
    });
    controller.start();
    controller.queue.add('a');
    controller.queue.add('b');
    await vi.waitFor(() => expect(started).toEqual(['a']));
    await controller.stop(5_000);
    expect(finished).toEqual(['a']);
    expect(started).toEqual(['a']);
  });

  it('gives up after graceMs and aborts the in-flight reconcile signal', async () => {
    let signal: AbortSignal | undefined;
    const logger = recordingLogger();
    const controller = new Controller({
      name: 'c',
      logger,
      reconcile: async (_key, context) => {
        signal = context.signal;
        await new Promise((resolve) => setTimeout(resolve, 10_000).unref());
      },
    });
    controller.start();
    controller.queue.add('a');
    await vi.waitFor(() => expect(signal).toBeDefined());
    const before = Date.now();
    await controller.stop(50);
    expect(Date.now() - before).toBeLessThan(2_000);
    expect(signal!.aborted).toBe(true);
    expect(logger.lines.some((line) => line.level === 'warn' && line.fields.graceMs === 50)).toBe(true);
  });

  it('can be stopped before it was started', async () => {
    const controller = new Controller({ name: 'c', reconcile: async () => {} });
    await controller.stop(10);
    expect(controller.queue.shuttingDown).toBe(true);
  });
});

describe('Controller: metrics and logging', () => {
  beforeEach(() => vi.useFakeTimers());

  it('counts reconciles by result like controller_runtime_reconcile_total, with errors and times', async () => {
    const { record, metrics } = recordingControllerMetrics();
    const outcomes: (() => Promise<{ requeueAfterMs?: number; requeue?: boolean } | void>)[] = [
      async () => {},
      async () => ({ requeueAfterMs: 50 }),
      async () => ({ requeue: true }),
      async () => {
        throw new Error('boom');
      },
    ];
    const controller = startController({
      name: 'measured',
      concurrency: 2,
      metrics,
      reconcile: (key) => outcomes[Number(key)]!(),
    });
    for (const key of ['0', '1', '2', '3']) controller.queue.add(key);
    await vi.advanceTimersByTimeAsync(1);
    expect(record.results.slice(0, 4).sort()).toEqual(['error', 'requeue', 'requeue_after', 'success']);
    expect(record.errors).toBeGreaterThanOrEqual(1);
    expect(record.times.length).toBe(record.results.length);
    expect(record.max).toBe(2);
    expect(Math.max(...record.active)).toBeLessThanOrEqual(2);
    expect(record.active.at(-1)).toBe(0);
    expect([...record.controllers]).toEqual(['measured']);
  });

  it('accepts a pino logger and logs reconcile errors with the key', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    startController({
      name: 'pino',
      logger,
      reconcile: async () => {
        throw new Error('visible in logs');
      },
    }).queue.add('ns/x');
    await vi.advanceTimersByTimeAsync(1);
    const entry = lines.map((line) => JSON.parse(line)).find((parsed) => parsed.msg === 'Reconciler error');
    expect(entry).toMatchObject({ controller: 'pino', key: 'ns/x', err: { message: 'visible in logs' } });
  });
});

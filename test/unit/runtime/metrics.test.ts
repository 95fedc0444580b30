import { describe, expect, it, vi } from 'vitest';
import { Controller, TerminalError, type ReconcileResult } from '../../../src/runtime/controller.ts';
import { OperatorMetrics } from '../../../src/runtime/metrics.ts';
import { WorkQueue } from '../../../src/runtime/work-queue.ts';
import { RateLimiter } from '../../../src/ses/rate-limiter.ts';

/** The value of one series in the exposition text (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const outcomes: Record<string, () => ReconcileResult | void> = {
  ok: () => undefined,
  later: () => ({ requeueAfterMs: 3_600_000 }),
  again: () => ({ requeue: true }),
  failing: () => {
    throw new Error('transient');
  },
  invalid: () => {
    throw new TerminalError('bad spec');
  },
  throttled: () => {
    throw Object.assign(new Error('throttled'), { retryAfterMs: 3_600_000 });
  },
};

describe('OperatorMetrics: controller-runtime and client-go series mean what their names mean', () => {
  it('counts reconciles by result, errors, terminal errors, queue adds and retries as controller-runtime over client-go does', async () => {
    const metrics = new OperatorMetrics();
    const seen = new Map<string, number>();
    const controller = new Controller({
      name: 'things',
      concurrency: 2,
      metrics: metrics.controller,
      queue: new WorkQueue({ name: 'things', metrics: metrics.workqueue }),
      // Each key's outcome on its first reconcile; a second reconcile of the same key succeeds.
      reconcile: async (key) => {
        const count = (seen.get(key) ?? 0) + 1;
        seen.set(key, count);
        return count === 1 ? outcomes[key]!() : undefined;
      },
    });
    controller.start();
    for (const key of Object.keys(outcomes)) controller.queue.add(key);
    // `failing` and `again` come back after their 5 ms backoff; `later` and `throttled` wait an hour.
    await vi.waitFor(() => expect([seen.get('failing'), seen.get('again')]).toEqual([2, 2]));
    await vi.waitFor(() => expect(controller.queue.processing()).toBe(0));
    const text = await metrics.registry.metrics();
    const series = (name: string, labels: string) => value(text, `${name}{${labels}}`);
    const c = 'controller="things"';
    expect(series('controller_runtime_reconcile_total', `${c},result="success"`)).toBe(3); // ok, failing and again the second time
    expect(series('controller_runtime_reconcile_total', `${c},result="requeue_after"`)).toBe(1);
    expect(series('controller_runtime_reconcile_total', `${c},result="requeue"`)).toBe(1);
    expect(series('controller_runtime_reconcile_total', `${c},result="error"`)).toBe(3); // terminal errors count as errors too
    expect(series('controller_runtime_reconcile_errors_total', c)).toBe(3);
    expect(series('controller_runtime_terminal_reconcile_errors_total', c)).toBe(1);
    expect(series('controller_runtime_reconcile_time_seconds_count', c)).toBe(8);
    expect(series('controller_runtime_max_concurrent_reconciles', c)).toBe(2);
    expect(series('controller_runtime_active_workers', c)).toBe(0);
    const q = 'name="things",controller="things"';
    // client-go counts a retry per AddAfter: the rate-limited failing and again, RequeueAfter's later, throttled's wait.
    expect(series('workqueue_retries_total', q)).toBe(4);
    expect(series('workqueue_adds_total', q)).toBe(8); // six first adds and the two that came back
    expect(series('workqueue_depth', q)).toBe(0);
    expect(series('workqueue_queue_duration_seconds_count', q)).toBe(8);
    expect(series('workqueue_work_duration_seconds_count', q)).toBe(8);
    await controller.stop(0);
  });

  it('creates every series at zero when a controller and its queue start, so rate() works from the first scrape', async () => {
    const metrics = new OperatorMetrics();
    const controller = new Controller({
      name: 'idle',
      metrics: metrics.controller,
      queue: new WorkQueue({ name: 'idle', metrics: metrics.workqueue }),
      reconcile: async () => {},
    });
    controller.start();
    const text = await metrics.registry.metrics();
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      expect(text).toContain(`controller_runtime_reconcile_total{controller="idle",result="${result}"} 0`);
    }
    for (const name of [
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_retries_total',
      'workqueue_unfinished_work_seconds',
      'workqueue_longest_running_processor_seconds',
    ]) {
      expect(text).toContain(`${name}{name="idle",controller="idle"} 0`);
    }
    await controller.stop(0);
  });

  it("reports SES's check period as the schedule estimates it at each scrape", async () => {
    const metrics = new OperatorMetrics();
    let periodMs = 5_000;
    metrics.followSesCheckPeriod(() => periodMs);
    expect(value(await metrics.registry.metrics(), 'ses_operator_ses_check_period_seconds')).toBe(5);
    periodMs = 9_750;
    expect(value(await metrics.registry.metrics(), 'ses_operator_ses_check_period_seconds')).toBe(9.75);
  });

  it('reports the SES calls waiting for the rate limiter by priority at each scrape', async () => {
    const metrics = new OperatorMetrics();
    const limiter = new RateLimiter({ ratePerSecond: 0.001 });
    metrics.followSesRateLimiter(limiter);
    await limiter.acquire();
    const abort = new AbortController();
    const waits = [limiter.acquire(abort.signal, 'urgent'), limiter.acquire(abort.signal, 'routine'), limiter.acquire(abort.signal, 'routine')];
    let text = await metrics.registry.metrics();
    expect(value(text, 'ses_operator_ses_rate_limiter_waiting{priority="urgent"}')).toBe(1);
    expect(value(text, 'ses_operator_ses_rate_limiter_waiting{priority="routine"}')).toBe(2);
    abort.abort(new Error('done'));
    await Promise.allSettled(waits);
    text = await metrics.registry.metrics();
    expect(text).toContain('ses_operator_ses_rate_limiter_waiting{priority="urgent"} 0');
    expect(text).toContain('ses_operator_ses_rate_limiter_waiting{priority="routine"} 0');
  });

  it('reports the Events not sent yet at each scrape', async () => {
    const metrics = new OperatorMetrics();
    let pending = 7;
    metrics.followEvents({ pending: () => pending });
    expect(value(await metrics.registry.metrics(), 'ses_operator_events_pending')).toBe(7);
    pending = 0;
    expect(value(await metrics.registry.metrics(), 'ses_operator_events_pending')).toBe(0);
    metrics.eventsDropped.inc();
    expect(value(await metrics.registry.metrics(), 'ses_operator_events_dropped_total')).toBe(1);
  });
});

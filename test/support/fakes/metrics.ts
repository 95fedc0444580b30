import type { ControllerMetrics, ReconcileOutcome } from '../../../src/runtime/controller.ts';
import type { WorkQueueMetricsProvider } from '../../../src/runtime/work-queue.ts';

/** ControllerMetrics that keep what they are told, for assertions. */
export function recordingControllerMetrics() {
  const record = {
    results: [] as ReconcileOutcome[],
    errors: 0,
    terminal: 0,
    times: [] as number[],
    active: [] as number[],
    max: undefined as number | undefined,
    controllers: new Set<string>(),
  };
  const metrics: ControllerMetrics = {
    reconcileTotal: (controller, result) => (record.controllers.add(controller), record.results.push(result)),
    reconcileErrors: () => record.errors++,
    terminalReconcileErrors: () => record.terminal++,
    reconcileTime: (_, seconds) => record.times.push(seconds),
    maxConcurrentReconciles: (_, value) => (record.max = value),
    activeWorkers: (_, value) => record.active.push(value),
  };
  return { record, metrics };
}

/** A WorkQueueMetricsProvider whose metrics keep what they are told, for assertions. */
export function recordingQueueMetrics() {
  const record = {
    depth: 0,
    adds: 0,
    retries: 0,
    latency: [] as number[],
    workDuration: [] as number[],
    unfinished: [] as number[],
    longest: [] as number[],
    names: new Set<string>(),
  };
  const provider: WorkQueueMetricsProvider = {
    newDepthMetric: (name) => (record.names.add(name), { inc: () => record.depth++, dec: () => record.depth-- }),
    newAddsMetric: () => ({ inc: () => record.adds++ }),
    newLatencyMetric: () => ({ observe: (value) => record.latency.push(value) }),
    newWorkDurationMetric: () => ({ observe: (value) => record.workDuration.push(value) }),
    newUnfinishedWorkSecondsMetric: () => ({ set: (value) => record.unfinished.push(value) }),
    newLongestRunningProcessorSecondsMetric: () => ({ set: (value) => record.longest.push(value) }),
    newRetriesMetric: () => ({ inc: () => record.retries++ }),
  };
  return { record, provider };
}

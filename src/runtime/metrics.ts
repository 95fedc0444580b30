import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerMetrics, ReconcileOutcome } from './controller.ts';
import type { WorkQueueMetricsProvider } from './work-queue.ts';

/**
 * Prometheus metrics under the names and labels controller-runtime uses, so existing dashboards
 * and alerts for Go operators work unchanged, plus the operator's own series.
 */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly controller: ControllerMetrics;
  readonly workqueue: WorkQueueMetricsProvider;
  readonly sesCalls: Counter<'operation' | 'outcome'>;
  readonly dnsChecks: Counter<'type' | 'outcome'>;
  readonly apiWrites: Counter<'resource' | 'verb'>;
  readonly setupReady: Gauge<'name'>;
  readonly setupVerifiedRecords: Gauge<'name'>;
  readonly leader: Gauge<'name'>;
  readonly timeToVerified: Histogram;
  readonly orphansSwept: Counter<'kind' | 'region'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const r = [this.registry];
    const reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers: r,
    });
    const reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers: r,
    });
    const terminalErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers: r,
    });
    const reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6,
        7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
      ],
      registers: r,
    });
    const maxConcurrent = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers: r,
    });
    const activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers: r,
    });
    this.controller = {
      reconcileTotal: (controller: string, result: ReconcileOutcome) => reconcileTotal.inc({ controller, result }),
      reconcileErrors: (controller: string) => reconcileErrors.inc({ controller }),
      terminalReconcileErrors: (controller: string) => terminalErrors.inc({ controller }),
      reconcileTime: (controller: string, seconds: number) => reconcileTime.observe({ controller }, seconds),
      maxConcurrentReconciles: (controller: string, value: number) => {
        maxConcurrent.set({ controller }, value);
        // Called once as a controller starts: zero its series, as controller-runtime does, so rate() works from the start.
        for (const result of ['success', 'error', 'requeue', 'requeue_after']) reconcileTotal.inc({ controller, result }, 0);
        reconcileErrors.inc({ controller }, 0);
        terminalErrors.inc({ controller }, 0);
      },
      activeWorkers: (controller: string, value: number) => activeWorkers.set({ controller }, value),
    };
    // controller-runtime labels every workqueue series with both the queue name and the controller.
    const labels = ['name', 'controller'] as const;
    const durationBuckets = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
    const depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: labels, registers: r });
    const adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: labels, registers: r });
    const latency = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: labels,
      buckets: durationBuckets,
      registers: r,
    });
    const work = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: labels,
      buckets: durationBuckets,
      registers: r,
    });
    const unfinished = new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
      labelNames: labels,
      registers: r,
    });
    const longest = new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running',
      labelNames: labels,
      registers: r,
    });
    const retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of items added to the workqueue with a delay (rate-limited requeues, RequeueAfter and retry-after waits)',
      labelNames: labels,
      registers: r,
    });
    const at = (name: string) => ({ name, controller: name });
    // Each factory runs once per queue; creating the series at zero there mirrors client-go's WithLabelValues.
    this.workqueue = {
      newDepthMetric: (name) => (depth.set(at(name), 0), { inc: () => depth.inc(at(name)), dec: () => depth.dec(at(name)) }),
      newAddsMetric: (name) => (adds.inc(at(name), 0), { inc: () => adds.inc(at(name)) }),
      newLatencyMetric: (name) => (latency.zero(at(name)), { observe: (value) => latency.observe(at(name), value) }),
      newWorkDurationMetric: (name) => (work.zero(at(name)), { observe: (value) => work.observe(at(name), value) }),
      newUnfinishedWorkSecondsMetric: (name) => (unfinished.set(at(name), 0), { set: (value) => unfinished.set(at(name), value) }),
      newLongestRunningProcessorSecondsMetric: (name) => (longest.set(at(name), 0), { set: (value) => longest.set(at(name), value) }),
      newRetriesMetric: (name) => (retries.inc(at(name), 0), { inc: () => retries.inc(at(name)) }),
    };
    this.sesCalls = new Counter({
      name: 'ses_operator_ses_calls_total',
      help: 'HTTP attempts to SES by operation and outcome (success or the SES error name)',
      labelNames: ['operation', 'outcome'],
      registers: r,
    });
    this.dnsChecks = new Counter({
      name: 'ses_operator_dns_checks_total',
      help: 'Live DNS lookups by record type and outcome (ok, NXDOMAIN, NODATA, SERVFAIL, TIMEOUT, ...)',
      labelNames: ['type', 'outcome'],
      registers: r,
    });
    this.apiWrites = new Counter({
      name: 'ses_operator_api_writes_total',
      help: 'Writes to the Kubernetes API by resource and verb',
      labelNames: ['resource', 'verb'],
      registers: r,
    });
    this.setupReady = new Gauge({ name: 'ses_operator_sessetup_ready', help: '1 when the SesSetup is Ready, else 0', labelNames: ['name'], registers: r });
    this.setupVerifiedRecords = new Gauge({
      name: 'ses_operator_sessetup_verified_records',
      help: 'DNS records of the SesSetup currently verified',
      labelNames: ['name'],
      registers: r,
    });
    // client-go's leader election gauge, under its usual name.
    this.leader = new Gauge({
      name: 'leader_election_master_status',
      help: '1 while this process holds the leader lease, else 0',
      labelNames: ['name'],
      registers: r,
    });
    this.timeToVerified = new Histogram({
      name: 'ses_operator_time_to_verified_seconds',
      help: "Time from a SesSetup's creation until all its DNS records were first verified",
      buckets: [10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600],
      registers: r,
    });
    this.orphansSwept = new Counter({
      name: 'ses_operator_orphans_swept_total',
      help: "SES resources tagged as the operator's own whose SesSetup is gone, deleted by the orphan sweep (kind: tenant, identity)",
      labelNames: ['kind', 'region'],
      registers: r,
    });
  }

  /** Per-setup gauges follow the informer: set from each object's status, dropped on delete. */
  observeSetup(name: string, status: { conditions?: { type: string; status: string }[]; dnsRecords?: { verified: boolean }[] } | undefined): void {
    this.setupReady.set({ name }, status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 1 : 0);
    this.setupVerifiedRecords.set({ name }, status?.dnsRecords?.filter((record) => record.verified).length ?? 0);
  }

  forgetSetup(name: string): void {
    this.setupReady.remove({ name });
    this.setupVerifiedRecords.remove({ name });
  }
}

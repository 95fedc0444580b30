import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SetupSeries } from './setup-series.ts';
import type { ControllerMetrics, ReconcileOutcome } from './controller.ts';
import type { WorkQueueMetricsProvider } from './work-queue.ts';
import { SES_CALL_PRIORITIES, type SesCallPriority } from '../ses/gateway.ts';

/** Declares series in one registry, one line each, read as the exposition reads: name{labels}, then help. */
function declare(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string>(name: string, labelNames: readonly L[], help: string) => new Counter<L>({ name, help, labelNames, registers }),
    gauge: <L extends string>(name: string, labelNames: readonly L[], help: string) => new Gauge<L>({ name, help, labelNames, registers }),
    histogram: <L extends string>(name: string, labelNames: readonly L[], help: string, buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers }),
    /** A gauge set from `read` at every scrape (left alone while it gives undefined). */
    readAtScrape: (name: string, help: string, read: () => number | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const value = read();
          if (value !== undefined) this.set(value);
        },
      }),
  };
}

/** controller-runtime's reconcile time buckets. */
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8,
  9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's workqueue duration buckets: 10 ns to 1000 s, a factor of ten apart. */
const QUEUE_DURATION_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
/** From seconds (records already in place) to days (records waiting for a person to publish them). */
const TIME_TO_VERIFIED_BUCKETS = [10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600];

/** controller-runtime's controller_runtime_* series, labelled by controller. */
function controllerSeries(registry: Registry): ControllerMetrics {
  const { counter, gauge, histogram } = declare(registry);
  const c = ['controller'] as const;
  const total = counter('controller_runtime_reconcile_total', [...c, 'result'], 'Total number of reconciliations per controller');
  const errors = counter('controller_runtime_reconcile_errors_total', c, 'Total number of reconciliation errors per controller');
  const terminal = counter('controller_runtime_terminal_reconcile_errors_total', c, 'Total number of terminal reconciliation errors per controller');
  const time = histogram('controller_runtime_reconcile_time_seconds', c, 'Length of time per reconciliation per controller', RECONCILE_TIME_BUCKETS);
  const maxConcurrent = gauge('controller_runtime_max_concurrent_reconciles', c, 'Maximum number of concurrent reconciles per controller');
  const activeWorkers = gauge('controller_runtime_active_workers', c, 'Number of currently used workers per controller');
  return {
    reconcileTotal: (controller: string, result: ReconcileOutcome) => total.inc({ controller, result }),
    reconcileErrors: (controller: string) => errors.inc({ controller }),
    terminalReconcileErrors: (controller: string) => terminal.inc({ controller }),
    reconcileTime: (controller: string, seconds: number) => time.observe({ controller }, seconds),
    maxConcurrentReconciles: (controller: string, value: number) => {
      maxConcurrent.set({ controller }, value);
      // Called once as a controller starts: zero its series, as controller-runtime does, so rate() works from the start.
      for (const result of ['success', 'error', 'requeue', 'requeue_after']) total.inc({ controller, result }, 0);
      errors.inc({ controller }, 0);
      terminal.inc({ controller }, 0);
    },
    activeWorkers: (controller: string, value: number) => activeWorkers.set({ controller }, value),
  };
}

/** client-go's workqueue_* series; controller-runtime labels each with both the queue name and the controller. */
function workqueueSeries(registry: Registry): WorkQueueMetricsProvider {
  const { counter, gauge, histogram } = declare(registry);
  const q = ['name', 'controller'] as const;
  const depth = gauge('workqueue_depth', q, 'Current depth of workqueue');
  const adds = counter('workqueue_adds_total', q, 'Total number of adds handled by workqueue');
  const latency = histogram(
    'workqueue_queue_duration_seconds',
    q,
    'How long in seconds an item stays in workqueue before being requested',
    QUEUE_DURATION_BUCKETS,
  );
  const work = histogram('workqueue_work_duration_seconds', q, 'How long in seconds processing an item from workqueue takes', QUEUE_DURATION_BUCKETS);
  const unfinished = gauge(
    'workqueue_unfinished_work_seconds',
    q,
    "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
  );
  const longest = gauge('workqueue_longest_running_processor_seconds', q, 'How many seconds has the longest running processor for workqueue been running');
  const retries = counter(
    'workqueue_retries_total',
    q,
    'Total number of items added to the workqueue with a delay (rate-limited requeues, RequeueAfter and retry-after waits)',
  );
  const at = (name: string) => ({ name, controller: name });
  // Each factory runs once per queue; creating the series at zero there mirrors client-go's WithLabelValues.
  return {
    newDepthMetric: (name) => (depth.set(at(name), 0), { inc: () => depth.inc(at(name)), dec: () => depth.dec(at(name)) }),
    newAddsMetric: (name) => (adds.inc(at(name), 0), { inc: () => adds.inc(at(name)) }),
    newLatencyMetric: (name) => (latency.zero(at(name)), { observe: (value) => latency.observe(at(name), value) }),
    newWorkDurationMetric: (name) => (work.zero(at(name)), { observe: (value) => work.observe(at(name), value) }),
    newUnfinishedWorkSecondsMetric: (name) => (unfinished.set(at(name), 0), { set: (value) => unfinished.set(at(name), value) }),
    newLongestRunningProcessorSecondsMetric: (name) => (longest.set(at(name), 0), { set: (value) => longest.set(at(name), value) }),
    newRetriesMetric: (name) => (retries.inc(at(name), 0), { inc: () => retries.inc(at(name)) }),
  };
}

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
  readonly #setups = new SetupSeries();
  /** client-go's leader election gauge, under its usual name. */
  readonly leader: Gauge<'name'>;
  readonly timeToVerified: Histogram;
  readonly orphansSwept: Counter<'kind' | 'region'>;
  readonly sesCheckPeriod: Gauge;
  #sesCheckPeriodMs: (() => number) | undefined;
  readonly sesRateLimiterWaiting: Gauge<'priority'>;
  #sesWaiting: ((priority: SesCallPriority) => number) | undefined;
  readonly eventsPending: Gauge;
  #eventsPending: (() => number) | undefined;
  readonly eventsDropped: Counter;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.controller = controllerSeries(this.registry);
    this.workqueue = workqueueSeries(this.registry);
    const { counter, gauge, histogram, readAtScrape } = declare(this.registry);
    this.sesCalls = counter(
      'ses_operator_ses_calls_total',
      ['operation', 'outcome'],
      'HTTP attempts to SES by operation and outcome (success or the SES error name)',
    );
    this.dnsChecks = counter(
      'ses_operator_dns_checks_total',
      ['type', 'outcome'],
      'Live DNS lookups by record type and outcome (ok, NXDOMAIN, NODATA, SERVFAIL, TIMEOUT, ...)',
    );
    this.apiWrites = counter('ses_operator_api_writes_total', ['resource', 'verb'], 'Writes to the Kubernetes API by resource and verb');
    this.leader = gauge('leader_election_master_status', ['name'], '1 while this process holds the leader lease, else 0');
    this.timeToVerified = histogram(
      'ses_operator_time_to_verified_seconds',
      [],
      "Time from a SesSetup's creation until all its DNS records were first verified",
      TIME_TO_VERIFIED_BUCKETS,
    );
    this.orphansSwept = counter(
      'ses_operator_orphans_swept_total',
      ['kind', 'region'],
      "SES resources tagged as the operator's own, and the operator's DNSEndpoints, whose SesSetup is gone, deleted by the orphan sweep (kind: tenant, identity, dnsendpoint; region empty for dnsendpoint)",
    );
    this.sesCheckPeriod = readAtScrape(
      'ses_operator_ses_check_period_seconds',
      "How often SES checks an identity's DKIM records, as learned from GetEmailIdentity's LastCheckedTimestamp: the wait before re-checking a setup whose records are live",
      () => (this.#sesCheckPeriodMs ? this.#sesCheckPeriodMs() / 1000 : undefined),
    );
    const waiting = () => this.#sesWaiting;
    this.sesRateLimiterWaiting = new Gauge({
      name: 'ses_operator_ses_rate_limiter_waiting',
      help: 'SES calls waiting for a token of the shared SES rate limit, by priority (urgent: someone waits on the outcome; routine: scheduled upkeep)',
      labelNames: ['priority'],
      registers: [this.registry],
      collect() {
        const source = waiting();
        if (source) for (const priority of SES_CALL_PRIORITIES) this.set({ priority }, source(priority));
      },
    });
    this.eventsPending = readAtScrape(
      'ses_operator_events_pending',
      'Kubernetes Events recorded but not sent yet: they go out in the background, a few at a time, behind the work they describe',
      () => this.#eventsPending?.(),
    );
    this.eventsDropped = counter('ses_operator_events_dropped_total', [], 'Kubernetes Events dropped because too many were waiting to be sent');
  }

  /** The pending-events gauge reads `recorder` at every scrape. */
  followEvents(recorder: { pending(): number }): void {
    this.#eventsPending = () => recorder.pending();
  }

  /** The rate limiter gauge reads `limiter` at every scrape. */
  followSesRateLimiter(limiter: { waitingFor(priority: SesCallPriority): number }): void {
    this.#sesWaiting = (priority) => limiter.waitingFor(priority);
  }

  /** The SES check period gauge reads `periodMs` at every scrape. */
  followSesCheckPeriod(periodMs: () => number): void {
    this.#sesCheckPeriodMs = periodMs;
  }

  /** Per-setup gauges follow the informer: set from each object's status, dropped on delete. */
  observeSetup(name: string, status: { conditions?: { type: string; status: string }[]; dnsRecords?: { verified: boolean }[] } | undefined): void {
    const ready = status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    this.#setups.set(name, ready, status?.dnsRecords?.filter((record) => record.verified).length ?? 0);
  }

  forgetSetup(name: string): void {
    this.#setups.delete(name);
  }

  /** What /metrics serves, in pieces: the registry's series, then the per-setup ones. */
  async exposition(): Promise<Iterable<string>> {
    const registry = await this.registry.metrics();
    const setups = this.#setups;
    return (function* () {
      yield registry;
      yield* setups.render();
    })();
  }
}

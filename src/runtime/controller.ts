import { silentLogger, type Logger } from './logger.ts';
import { WorkQueue, type QueuePriority } from './work-queue.ts';

/** What a reconcile asks for after succeeding (controller-runtime's reconcile.Result). */
export interface ReconcileResult {
  /** Run again after this delay (resets the key's error backoff). */
  requeueAfterMs?: number;
  /** How that run queues once due: `routine` (upkeep nobody waits on) goes after other keys; default urgent. */
  priority?: QueuePriority;
  /** Run again with the key's rate-limited backoff (controller-runtime's Requeue: true). */
  requeue?: boolean;
}

export interface ReconcileContext {
  /** Aborted when stop() gives up waiting for in-flight reconciles. */
  signal: AbortSignal;
}

export type Reconcile = (key: string, context: ReconcileContext) => Promise<ReconcileResult | void>;

/** An error retrying cannot fix (invalid spec, ...): logged and counted, never retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** True when the error, or any error in its `cause` chain, is a TerminalError (like errors.Is). */
export function isTerminalError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 16; current = current.cause, depth++) {
    if (current instanceof TerminalError) return true;
  }
  return false;
}

/** The `result` label of controller_runtime_reconcile_total. */
export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'requeue_after';

/** controller-runtime's controller metrics, one method per series (label `controller` = the name). */
export interface ControllerMetrics {
  /** controller_runtime_reconcile_total{controller, result} */
  reconcileTotal(controller: string, result: ReconcileOutcome): void;
  /** controller_runtime_reconcile_errors_total */
  reconcileErrors(controller: string): void;
  /** controller_runtime_terminal_reconcile_errors_total */
  terminalReconcileErrors(controller: string): void;
  /** controller_runtime_reconcile_time_seconds (histogram) */
  reconcileTime(controller: string, seconds: number): void;
  /** controller_runtime_max_concurrent_reconciles (gauge) */
  maxConcurrentReconciles(controller: string, value: number): void;
  /** controller_runtime_active_workers (gauge) */
  activeWorkers(controller: string, value: number): void;
}

export interface ControllerOptions {
  name: string;
  reconcile: Reconcile;
  /** Defaults to a WorkQueue named after the controller. */
  queue?: WorkQueue;
  /** Keys reconciled at the same time (one key never runs twice at once); default 1. */
  concurrency?: number;
  logger?: Logger;
  metrics?: ControllerMetrics;
}

/**
 * Feeds queued keys to `reconcile` with controller-runtime's requeue rules: success forgets the
 * key's backoff, errors retry with backoff, TerminalError is never retried, and an error carrying
 * `retryAfterMs` waits exactly that long (throttling must not hot-loop).
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #reconcile: Reconcile;
  readonly #concurrency: number;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics | undefined;
  readonly #abort = new AbortController();
  #workers: Promise<void>[] = [];
  #active = 0;
  #started = false;
  /** Reconciles until the queue first ran dry after start; undefined once it has. */
  #initialReconciles: number | undefined = 0;
  #startedAt = 0;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.queue = options.queue ?? new WorkQueue({ name: options.name });
    this.#reconcile = options.reconcile;
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.#logger = (options.logger ?? silentLogger).child({ controller: options.name });
    this.#metrics = options.metrics;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#startedAt = performance.now();
    this.#metrics?.maxConcurrentReconciles(this.name, this.#concurrency);
    this.#metrics?.activeWorkers(this.name, 0);
    for (let i = 0; i < this.#concurrency; i++) this.#workers.push(this.#work());
    this.#logger.info({ workers: this.#concurrency }, 'controller started');
  }

  /** Stops taking keys and waits up to graceMs for in-flight reconciles, then aborts their signal. */
  async stop(graceMs = 30_000): Promise<void> {
    const drained = await this.queue.shutDownWithDrain(graceMs);
    if (!drained) {
      this.#abort.abort(new Error(`controller ${this.name} stopped`));
      this.#logger.warn({ graceMs }, 'in-flight reconciles did not finish in time; aborted');
      return;
    }
    await Promise.all(this.#workers);
    this.#logger.info('controller stopped');
  }

  async #work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      await this.#reconcileKey(key);
    }
  }

  async #reconcileKey(key: string): Promise<void> {
    this.#metrics?.activeWorkers(this.name, ++this.#active);
    const startedAt = performance.now();
    try {
      const result = (await this.#reconcile(key, { signal: this.#abort.signal })) ?? {};
      this.#afterSuccess(key, result);
    } catch (error) {
      this.#afterError(key, error);
    } finally {
      this.#metrics?.reconcileTime(this.name, (performance.now() - startedAt) / 1000);
      this.#metrics?.activeWorkers(this.name, --this.#active);
      this.queue.done(key);
      this.#noteInitialDrain();
    }
  }

  /** Logs once when the work found at start-up is done: how long an operator takes to catch up after a restart. */
  #noteInitialDrain(): void {
    if (this.#initialReconciles === undefined) return;
    this.#initialReconciles++;
    if (this.queue.processing() > 0 || this.queue.len() > 0) return;
    const ms = Math.round(performance.now() - this.#startedAt);
    this.#logger.info({ reconciles: this.#initialReconciles, ms }, 'initial work done');
    this.#initialReconciles = undefined;
  }

  #afterSuccess(key: string, result: ReconcileResult): void {
    if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs, result.priority);
      this.#metrics?.reconcileTotal(this.name, 'requeue_after');
    } else if (result.requeue) {
      this.queue.addRateLimited(key);
      this.#metrics?.reconcileTotal(this.name, 'requeue');
    } else {
      this.queue.forget(key);
      this.#metrics?.reconcileTotal(this.name, 'success');
    }
  }

  #afterError(key: string, error: unknown): void {
    this.#metrics?.reconcileTotal(this.name, 'error');
    this.#metrics?.reconcileErrors(this.name);
    if (isTerminalError(error)) {
      this.queue.forget(key);
      this.#metrics?.terminalReconcileErrors(this.name);
      this.#logger.error({ err: error, key, terminal: true }, 'Reconciler error (terminal, not retried)');
      return;
    }
    const retryAfterMs = retryAfterOf(error);
    if (retryAfterMs !== undefined) {
      this.queue.addAfter(key, retryAfterMs);
      this.#logger.warn({ err: error, key, retryAfterMs }, 'Reconciler error; retrying after the delay it asked for');
      return;
    }
    this.queue.addRateLimited(key);
    this.#logger.error({ err: error, key, requeues: this.queue.numRequeues(key) }, 'Reconciler error');
  }
}

function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

import { defaultControllerRateLimiter, type RateLimiter } from './queue-rate-limiters.ts';

export { ExponentialFailureRateLimiter, type RateLimiter } from './queue-rate-limiters.ts';

/**
 * A keyed work queue with client-go's workqueue semantics (plain, delaying and rate-limited in one):
 * a key is queued at most once, never handed to two workers at once, and a key added while it is
 * being processed comes back (once) after done().
 */

export interface CounterMetric {
  inc(): void;
}
export interface GaugeMetric {
  inc(): void;
  dec(): void;
}
export interface SettableGaugeMetric {
  set(value: number): void;
}
export interface HistogramMetric {
  observe(value: number): void;
}

/**
 * client-go's workqueue.MetricsProvider, method for method, so a Prometheus adapter maps each one
 * to the series of the same name (label `name` = the queue's name). Durations are in seconds.
 */
export interface WorkQueueMetricsProvider {
  /** workqueue_depth */
  newDepthMetric(name: string): GaugeMetric;
  /** workqueue_adds_total */
  newAddsMetric(name: string): CounterMetric;
  /** workqueue_queue_duration_seconds: from add to get. */
  newLatencyMetric(name: string): HistogramMetric;
  /** workqueue_work_duration_seconds: from get to done. */
  newWorkDurationMetric(name: string): HistogramMetric;
  /** workqueue_unfinished_work_seconds: summed age of the keys being processed. */
  newUnfinishedWorkSecondsMetric(name: string): SettableGaugeMetric;
  /** workqueue_longest_running_processor_seconds */
  newLongestRunningProcessorSecondsMetric(name: string): SettableGaugeMetric;
  /** workqueue_retries_total: every addAfter (addRateLimited included), as client-go counts it. */
  newRetriesMetric(name: string): CounterMetric;
}

export interface WorkQueueOptions {
  /** Label of the queue's metrics. */
  name?: string;
  /** Delays of addRateLimited(); default: per-key exponential backoff and an overall bucket (defaultControllerRateLimiter). */
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetricsProvider;
  /** How often the unfinished-work gauges are refreshed (client-go: 500 ms). */
  metricsUpdatePeriodMs?: number;
  /**
   * Keys whose delay ran out (addAfter: a scheduled re-check, a retry) go before keys added directly
   * (watch events), three in four while both wait: the first finish work under way, the second start it.
   */
  dueFirst?: boolean;
  /**
   * At most this many routine keys in flight at once (default: no limit). With one fewer than the
   * workers, a routine key waiting on a shared budget (SES tokens) never holds the last free worker.
   */
  routineInFlightLimit?: number;
}

/**
 * How a key queues: `routine` (upkeep nobody waits on, such as the re-check of a verified setup)
 * goes after `urgent` keys, keeping one turn in four (URGENT_BEFORE_ROUTINE); a key asked for at both keeps
 * the higher, as in controller-runtime's priority queue.
 */
export type QueuePriority = 'urgent' | 'routine';

/** While both lists wait, a due key goes first this many times in a row, then one added directly. */
const DUE_RUN = 3;

/**
 * While routine and urgent keys both wait, a routine key is handed out after this many urgent ones
 * in a row: the share the SES rate limiter keeps for routine calls, so upkeep slows but never stops.
 */
const URGENT_BEFORE_ROUTINE = 3;

export class WorkQueue {
  readonly name: string;
  readonly #rateLimiter: RateLimiter;
  readonly #ready = new Fifo();
  /** Keys whose delay ran out, when dueFirst: handed out before #ready (DUE_RUN in a row). */
  readonly #due = new Fifo();
  readonly #dueKeys = new Set<string>();
  readonly #dueFirst: boolean;
  #dueRun = 0;
  /**
   * Routine keys ready to be handed out, in the order they came. An entry whose number is not the
   * key's in #routineQueued is stale: the key was lifted to urgent (and may have come back later).
   */
  readonly #routine = new Fifo<{ key: string; seq: number }>();
  readonly #routineQueued = new Map<string, number>();
  #routineSeq = 0;
  /** Dirty keys whose priority is routine: in #routine, or in flight and added again. */
  readonly #routineKeys = new Set<string>();
  /** Delayed keys every addAfter of which was routine. */
  readonly #routineDelayed = new Set<string>();
  #urgentRun = 0;
  /** Routine keys handed out and not yet done. */
  readonly #routineInFlight = new Set<string>();
  readonly #routineInFlightLimit: number;
  /** Keys that need processing: queued, or added again while being processed. */
  readonly #dirty = new Set<string>();
  /** Keys handed out and not yet done, with the time they were handed out. */
  readonly #processing = new Map<string, number>();
  readonly #addedAt = new Map<string, number>();
  readonly #getters: ((key: string | undefined) => void)[] = [];
  readonly #delayed = new DelayHeap();
  #delayTimer: NodeJS.Timeout | undefined;
  #delayTimerAt = Infinity;
  #shuttingDown = false;
  #drainWaiters: (() => void)[] = [];
  readonly #metrics: QueueMetrics | undefined;
  #metricsTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? 'workqueue';
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter();
    this.#dueFirst = options.dueFirst ?? false;
    this.#routineInFlightLimit = Math.max(1, options.routineInFlightLimit ?? Infinity);
    if (options.metrics) {
      this.#metrics = createQueueMetrics(options.metrics, this.name);
      this.#metricsTimer = setInterval(() => this.#updateUnfinishedWork(), options.metricsUpdatePeriodMs ?? 500);
      this.#metricsTimer.unref();
    }
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Number of keys ready to be handed out (not counting delayed or in-flight ones). */
  len(): number {
    return this.#ready.length + this.#due.length + this.#routineQueued.size;
  }

  add(key: string, priority: QueuePriority = 'urgent'): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(key)) {
      // Already queued: an urgent add lifts a routine key (it keeps the higher priority).
      if (priority === 'urgent' && this.#routineKeys.delete(key) && this.#routineQueued.delete(key)) this.#enqueue(key);
      return;
    }
    this.#metrics?.adds.inc();
    this.#metrics?.depth.inc();
    if (!this.#addedAt.has(key)) this.#addedAt.set(key, now());
    this.#dirty.add(key);
    if (priority === 'routine') this.#routineKeys.add(key);
    // A key in flight waits for done(): one key is never processed twice at once.
    if (this.#processing.has(key)) return;
    this.#enqueue(key);
  }

  /**
   * Adds the key after the delay; a key already waiting keeps the earlier of the two times. Counts
   * one workqueue_retries_total, whatever the delay, as client-go's delaying queue does (its
   * AddRateLimited goes through AddAfter, and so do controller-runtime's RequeueAfter requeues).
   */
  addAfter(key: string, delayMs: number, priority: QueuePriority = 'urgent'): void {
    if (this.#shuttingDown) return;
    this.#metrics?.retries.inc();
    if (!(delayMs > 0)) return this.add(key, priority);
    // A key already waiting is routine only if every request for it was.
    if (priority === 'urgent') this.#routineDelayed.delete(key);
    else if (!this.#delayed.has(key)) this.#routineDelayed.add(key);
    const readyAt = now() + delayMs;
    if (this.#delayed.schedule(key, readyAt)) this.#armDelayTimer();
  }

  /** Adds the key after the delay its rate limiter gives (counted as a retry by addAfter). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Ends the key's backoff: its next failure starts again from the base delay. */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /** Keys handed out by get() and not yet done(). */
  processing(): number {
    return this.#processing.size;
  }

  /** The next key to process (call done(key) afterwards); undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#next();
    if (key !== undefined) return Promise.resolve(this.#handOut(key));
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    const startedAt = this.#processing.get(key);
    if (startedAt === undefined) return;
    this.#processing.delete(key);
    const freedRoutineSlot = this.#routineInFlight.delete(key);
    this.#metrics?.workDuration.observe((now() - startedAt) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    // A routine key held back by the limit can go to a waiting worker now.
    if (freedRoutineSlot) this.#serveWaitingGetter();
    if (this.#processing.size === 0) this.#notifyDrained();
  }

  /** Stops at once: pending and future get() calls return undefined; delayed keys are dropped. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
    clearTimeout(this.#delayTimer);
    clearInterval(this.#metricsTimer);
    this.#delayed.clear();
    this.#routineDelayed.clear();
    if (this.#processing.size === 0) this.#notifyDrained();
  }

  /** Shuts down, then waits for the keys in flight to be done; false if they were not within the timeout. */
  async shutDownWithDrain(timeoutMs: number): Promise<boolean> {
    this.shutDown();
    if (this.#processing.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<boolean>((resolve) => this.#drainWaiters.push(() => resolve(true)));
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    try {
      return await Promise.race([drained, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  #enqueue(key: string): void {
    const routine = this.#routineKeys.has(key);
    const getter = routine && !this.#routineSlotFree() ? undefined : this.#getters.shift();
    if (getter) getter(this.#handOut(key));
    else if (routine) {
      const seq = ++this.#routineSeq;
      this.#routine.push({ key, seq });
      this.#routineQueued.set(key, seq);
    } else if (this.#dueKeys.has(key)) this.#due.push(key);
    else this.#ready.push(key);
  }

  #serveWaitingGetter(): void {
    if (this.#getters.length === 0 || this.#shuttingDown) return;
    const key = this.#next();
    if (key !== undefined) this.#getters.shift()!(this.#handOut(key));
  }

  #routineSlotFree(): boolean {
    return this.#routineInFlight.size < this.#routineInFlightLimit;
  }

  #next(): string | undefined {
    const urgentWaiting = this.#ready.length + this.#due.length;
    const routineReady = this.#routineQueued.size > 0 && this.#routineSlotFree();
    if (routineReady && (urgentWaiting === 0 || this.#urgentRun >= URGENT_BEFORE_ROUTINE)) {
      this.#urgentRun = 0;
      for (let entry = this.#routine.shift(); entry !== undefined; entry = this.#routine.shift()) {
        if (this.#routineQueued.get(entry.key) !== entry.seq) continue;
        this.#routineQueued.delete(entry.key);
        return entry.key;
      }
    }
    if (urgentWaiting === 0) return undefined;
    if (routineReady) this.#urgentRun++;
    return this.#nextUrgent();
  }

  /** Among urgent keys: due ones first (DUE_RUN in a row) when dueFirst, else the one added first. */
  #nextUrgent(): string | undefined {
    if (this.#due.length > 0 && (this.#dueRun < DUE_RUN || this.#ready.length === 0)) {
      this.#dueRun++;
      return this.#due.shift();
    }
    this.#dueRun = 0;
    return this.#ready.shift();
  }

  #handOut(key: string): string {
    const at = now();
    this.#dirty.delete(key);
    this.#dueKeys.delete(key);
    if (this.#routineKeys.delete(key)) this.#routineInFlight.add(key);
    this.#processing.set(key, at);
    this.#metrics?.depth.dec();
    const addedAt = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (addedAt !== undefined) this.#metrics?.latency.observe((at - addedAt) / 1000);
    return key;
  }

  #notifyDrained(): void {
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  /** One timer for all delayed keys, set for the earliest; unref'd so it never keeps the process alive. */
  #armDelayTimer(): void {
    const next = this.#delayed.peekTime();
    if (next === this.#delayTimerAt) return;
    clearTimeout(this.#delayTimer);
    this.#delayTimerAt = next;
    if (next === Infinity) return;
    this.#delayTimer = setTimeout(() => this.#releaseDue(), Math.max(0, Math.ceil(next - now())));
    this.#delayTimer.unref();
  }

  #releaseDue(): void {
    this.#delayTimerAt = Infinity;
    const at = now();
    for (let key = this.#delayed.popDue(at); key !== undefined; key = this.#delayed.popDue(at)) {
      const priority = this.#routineDelayed.delete(key) ? 'routine' : 'urgent';
      // Already queued by a watch event: it keeps that place (unless it rises from routine to urgent).
      if (this.#dueFirst && !this.#dirty.has(key)) this.#dueKeys.add(key);
      this.add(key, priority);
    }
    if (!this.#shuttingDown) this.#armDelayTimer();
  }

  #updateUnfinishedWork(): void {
    const at = now();
    let total = 0;
    let longest = 0;
    for (const startedAt of this.#processing.values()) {
      const age = (at - startedAt) / 1000;
      total += age;
      if (age > longest) longest = age;
    }
    this.#metrics?.unfinishedWork.set(total);
    this.#metrics?.longestRunning.set(longest);
  }
}

// performance.now() is monotonic (wall-clock jumps must not release or hold back delayed keys).
const now = () => performance.now();

interface QueueMetrics {
  depth: GaugeMetric;
  adds: CounterMetric;
  latency: HistogramMetric;
  workDuration: HistogramMetric;
  unfinishedWork: SettableGaugeMetric;
  longestRunning: SettableGaugeMetric;
  retries: CounterMetric;
}

function createQueueMetrics(provider: WorkQueueMetricsProvider, name: string): QueueMetrics {
  return {
    depth: provider.newDepthMetric(name),
    adds: provider.newAddsMetric(name),
    latency: provider.newLatencyMetric(name),
    workDuration: provider.newWorkDurationMetric(name),
    unfinishedWork: provider.newUnfinishedWorkSecondsMetric(name),
    longestRunning: provider.newLongestRunningProcessorSecondsMetric(name),
    retries: provider.newRetriesMetric(name),
  };
}

/** Array-backed FIFO with O(1) shift (Array#shift is O(n), which hurts at 10,000 keys). */
class Fifo<T = string> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(key: T): void {
    this.#items.push(key);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const key = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }
}

interface DelayedKey {
  key: string;
  readyAt: number;
  index: number;
}

/** Binary min-heap of delayed keys by ready time, indexed by key so a key can move earlier in O(log n). */
class DelayHeap {
  readonly #heap: DelayedKey[] = [];
  readonly #byKey = new Map<string, DelayedKey>();

  /** Returns true when the key's ready time changed (it was new, or the new time is earlier). */
  schedule(key: string, readyAt: number): boolean {
    const existing = this.#byKey.get(key);
    if (existing) {
      if (existing.readyAt <= readyAt) return false;
      existing.readyAt = readyAt;
      this.#up(existing.index);
      return true;
    }
    const entry = { key, readyAt, index: this.#heap.length };
    this.#heap.push(entry);
    this.#byKey.set(key, entry);
    this.#up(entry.index);
    return true;
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  peekTime(): number {
    return this.#heap[0]?.readyAt ?? Infinity;
  }

  popDue(at: number): string | undefined {
    const top = this.#heap[0];
    if (!top || top.readyAt > at) return undefined;
    const last = this.#heap.pop()!;
    if (last !== top) {
      this.#heap[0] = last;
      last.index = 0;
      this.#down(0);
    }
    this.#byKey.delete(top.key);
    return top.key;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#byKey.clear();
  }

  #up(index: number): void {
    const heap = this.#heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.readyAt <= heap[index]!.readyAt) return;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #down(index: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && heap[left]!.readyAt < heap[smallest]!.readyAt) smallest = left;
      if (right < heap.length && heap[right]!.readyAt < heap[smallest]!.readyAt) smallest = right;
      if (smallest === index) return;
      this.#swap(index, smallest);
      index = smallest;
    }
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const first = heap[a]!;
    const second = heap[b]!;
    heap[a] = second;
    heap[b] = first;
    first.index = b;
    second.index = a;
  }
}

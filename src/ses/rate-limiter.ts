import type { SesCallPriority } from './gateway.ts';

/**
 * While both classes wait, a routine waiter gets the token after this many urgent ones in a row:
 * one token in four stays with routine work, the same quarter the re-check schedule keeps for
 * verified setups (VERIFIED_RESERVE in recheck-schedule.ts), so upkeep slows down but never stops.
 */
const URGENT_BEFORE_ROUTINE = 3;

/**
 * A token bucket shared by every SES call: SES throttles control-plane actions per account
 * (about 1 request/s), so the operator spends its budget deliberately instead of provoking 429s.
 * Urgent waiters are served before routine ones (see URGENT_BEFORE_ROUTINE), each class first
 * come, first served. An urgent call announced ahead (expectUrgentIn) finds its token waiting:
 * routine calls leave it alone, as long as routine keeps its turn.
 */
export class RateLimiter {
  #ratePerSecond: number;
  #burst: number;
  #tokens: number;
  #lastRefill: number;
  readonly #queues: Record<SesCallPriority, (() => void)[]> = { urgent: [], routine: [] };
  /** Urgent waiters served since the last routine one. */
  #urgentInARow = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #now: () => number;
  /** When announced urgent calls are due (limiter clock, ascending); each holds a token from routine calls. */
  readonly #holds: number[] = [];

  constructor(options: { ratePerSecond: number; burst?: number; now?: () => number }) {
    if (!(options.ratePerSecond > 0)) throw new Error(`rate must be > 0 requests/s, got ${options.ratePerSecond}`);
    this.#ratePerSecond = options.ratePerSecond;
    this.#burst = Math.max(1, options.burst ?? 1);
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.#burst;
    this.#lastRefill = this.#now();
  }

  get ratePerSecond(): number {
    return this.#ratePerSecond;
  }

  /** Calls waiting for a token right now. */
  get waiting(): number {
    return this.#queues.urgent.length + this.#queues.routine.length;
  }

  /** Calls of one class waiting for a token right now. */
  waitingFor(priority: SesCallPriority): number {
    return this.#queues[priority].length;
  }

  /** Calls announced by expectUrgentIn and not yet made (nor given up). */
  get holds(): number {
    this.#dropExpiredHolds(this.#now());
    return this.#holds.length;
  }

  /**
   * An urgent call is expected in delayMs (a scheduled re-check someone waits on): until it is made,
   * or one refill time after it was due, routine calls leave the bucket the token it will need, so it
   * does not wait up to a refill time behind upkeep. Routine still gets its turn among urgent calls.
   */
  expectUrgentIn(delayMs: number): void {
    const at = this.#now() + Math.max(0, delayMs);
    const index = this.#holds.findIndex((hold) => hold > at);
    this.#holds.splice(index < 0 ? this.#holds.length : index, 0, at);
  }

  /** Resolves when the caller may make one call; rejects with the signal's reason if it aborts first (the place is given up). */
  acquire(signal?: AbortSignal, priority: SesCallPriority = 'routine'): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#refill();
    if (this.waiting === 0 && this.#tokens >= 1 && (priority === 'urgent' || this.#routineHeldBackUntil() === undefined)) {
      this.#take(priority);
      return Promise.resolve();
    }
    const queue = this.#queues[priority];
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        reject(signal!.reason);
      };
      const waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.#schedule();
    });
  }

  /** The waiter the next token goes to: urgent first, routine on its turn or when no urgent one waits; none when routine is held back. */
  #next(): (() => void) | undefined {
    const { urgent, routine } = this.#queues;
    if (routine.length > 0 && (urgent.length === 0 || this.#urgentInARow >= URGENT_BEFORE_ROUTINE)) {
      if (urgent.length === 0 && this.#routineHeldBackUntil() !== undefined) return undefined;
      this.#take('routine');
      return routine.shift()!;
    }
    if (urgent.length === 0) return undefined;
    this.#take('urgent');
    return urgent.shift()!;
  }

  #take(priority: SesCallPriority): void {
    this.#tokens -= 1;
    if (priority === 'routine') {
      this.#urgentInARow = 0;
      return;
    }
    this.#urgentInARow += 1;
    // The call announced for this moment is (most likely) this one.
    const now = this.#now();
    this.#dropExpiredHolds(now);
    if (this.#holds.length > 0 && this.#holds[0]! - this.#refillMs() <= now) this.#holds.shift();
  }

  /**
   * While a routine call now would leave no token for the next announced urgent call, the time that
   * hold lapses; undefined when no hold is near. (Among waiting urgent calls, routine keeps its turn: #next.)
   */
  #routineHeldBackUntil(): number | undefined {
    const now = this.#now();
    this.#dropExpiredHolds(now);
    const hold = this.#holds[0];
    if (hold === undefined) return undefined;
    const tokensAtHold = this.#tokens - 1 + ((hold - now) / 1000) * this.#ratePerSecond;
    return tokensAtHold >= 1 ? undefined : hold + this.#refillMs();
  }

  /** A hold lapses one refill time after its call was due: a call that never came must not stall routine work. */
  #dropExpiredHolds(now: number): void {
    while (this.#holds.length > 0 && this.#holds[0]! + this.#refillMs() <= now) this.#holds.shift();
  }

  /** Time for one token to come back. */
  #refillMs(): number {
    return 1000 / this.#ratePerSecond;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#lastRefill) / 1000) * this.#ratePerSecond);
    this.#lastRefill = now;
  }

  /** (Re)sets the one timer for the next waiter: a new urgent waiter may need it sooner than a held-back routine one. */
  #schedule(): void {
    clearTimeout(this.#timer);
    let wait = Math.max(0, ((1 - this.#tokens) / this.#ratePerSecond) * 1000);
    // Only routine calls wait, and a hold keeps them back: look again when it lapses (an urgent call ends it sooner).
    const heldBackUntil = this.#queues.urgent.length === 0 ? this.#routineHeldBackUntil() : undefined;
    if (heldBackUntil !== undefined) wait = Math.max(wait, heldBackUntil - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.waiting > 0 && this.#tokens >= 1) {
        const next = this.#next();
        if (!next) break;
        next();
      }
      if (this.waiting > 0) this.#schedule();
    }, Math.ceil(wait));
  }
}

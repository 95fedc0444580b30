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
 * come, first served.
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

  /** Resolves when the caller may make one call; rejects with the signal's reason if it aborts first (the place is given up). */
  acquire(signal?: AbortSignal, priority: SesCallPriority = 'routine'): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#refill();
    if (this.waiting === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
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

  /** The waiter the next token goes to: urgent first, routine on its turn or when no urgent one waits. */
  #next(): () => void {
    const { urgent, routine } = this.#queues;
    if (routine.length > 0 && (urgent.length === 0 || this.#urgentInARow >= URGENT_BEFORE_ROUTINE)) {
      this.#urgentInARow = 0;
      return routine.shift()!;
    }
    this.#urgentInARow += 1;
    return urgent.shift()!;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#lastRefill) / 1000) * this.#ratePerSecond);
    this.#lastRefill = now;
  }

  #schedule(): void {
    if (this.#timer) return;
    const wait = Math.max(0, ((1 - this.#tokens) / this.#ratePerSecond) * 1000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.waiting > 0 && this.#tokens >= 1) {
        this.#tokens -= 1;
        this.#next()();
      }
      if (this.waiting > 0) this.#schedule();
    }, Math.ceil(wait));
  }
}

/**
 * How long a key waits before it is retried: client-go's workqueue rate limiters
 * (util/workqueue/default_rate_limiters.go), the per-key exponential backoff and the overall token
 * bucket, combined max-of as in its DefaultControllerRateLimiter.
 */

/** Decides how long a failing key waits before its next attempt (client-go's RateLimiter). */
export interface RateLimiter {
  /** The delay for this failure; each call counts one more failure for the key. */
  when(key: string): number;
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** base * 2^failures, capped: the per-key limiter (controller-runtime's default 5 ms .. 1000 s). */
export class ExponentialFailureRateLimiter implements RateLimiter {
  readonly #failures = new Map<string, number>();
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;

  constructor(options: { baseDelayMs?: number; maxDelayMs?: number } = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 1_000_000;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = this.#baseDelayMs * 2 ** failures;
    return Number.isFinite(delay) && delay < this.#maxDelayMs ? delay : this.#maxDelayMs;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * One token bucket for all keys together (client-go's BucketRateLimiter over golang.org/x/time/rate):
 * each retry reserves a token, and waits until the bucket would have held it. Bounds the retry
 * rate of a controller whose every key fails at once, which per-key backoff alone does not.
 */
export class BucketRateLimiter implements RateLimiter {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  /** May go below zero: tokens reserved ahead, as rate.Limiter.Reserve() does. */
  #tokens: number;
  #updatedAt: number;

  constructor(options: { ratePerSecond?: number; burst?: number; now?: () => number } = {}) {
    this.#ratePerSecond = options.ratePerSecond ?? 10;
    this.#burst = options.burst ?? 100;
    if (!(this.#ratePerSecond > 0) || !(this.#burst >= 1)) throw new Error('a bucket needs a rate > 0 and a burst >= 1');
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.#burst;
    this.#updatedAt = this.#now();
  }

  when(_key: string): number {
    const at = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((at - this.#updatedAt) / 1000) * this.#ratePerSecond);
    this.#updatedAt = at;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#ratePerSecond) * 1000;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay any of the limiters asks for (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    // Every limiter sees every failure (each counts its own), so no short-circuit.
    return this.#limiters.reduce((longest, limiter) => Math.max(longest, limiter.when(key)), 0);
  }

  forget(key: string): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiters.reduce((most, limiter) => Math.max(most, limiter.numRequeues(key)), 0);
  }
}

export interface ControllerRateLimiterOptions {
  /** Per-key exponential backoff (5 ms .. 1000 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Overall bucket for all keys (10 retries/s, burst 100). */
  ratePerSecond?: number;
  burst?: number;
}

/** client-go's DefaultControllerRateLimiter: per-key exponential backoff and an overall bucket, max-of. */
export function defaultControllerRateLimiter(options: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(
    new ExponentialFailureRateLimiter({ baseDelayMs: options.baseDelayMs, maxDelayMs: options.maxDelayMs }),
    new BucketRateLimiter({ ratePerSecond: options.ratePerSecond, burst: options.burst }),
  );
}

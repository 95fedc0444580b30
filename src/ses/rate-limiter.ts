/**
 * A token bucket shared by every SES call: SES throttles control-plane actions per account
 * (about 1 request/s), so the operator spends its budget deliberately instead of provoking 429s.
 * Waiters are served first come, first served.
 */
export class RateLimiter {
  #ratePerSecond: number;
  #burst: number;
  #tokens: number;
  #lastRefill: number;
  #waiters: (() => void)[] = [];
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
    return this.#waiters.length;
  }

  /** Resolves when the caller may make one call; rejects with the signal's reason if it aborts first (the place is given up). */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#refill();
    if (this.#waiters.length === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(signal!.reason);
      };
      const waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#schedule();
    });
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
      while (this.#waiters.length > 0 && this.#tokens >= 1) {
        this.#tokens -= 1;
        this.#waiters.shift()!();
      }
      if (this.#waiters.length > 0) this.#schedule();
    }, Math.ceil(wait));
  }
}

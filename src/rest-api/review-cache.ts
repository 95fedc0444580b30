/**
 * Answers kept for a short time, with concurrent asks for one key sharing one call: a burst of
 * requests with the same token costs the API server one TokenReview, not one each.
 */
export class ReviewCache<T> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { value: T; expires: number }>();
  readonly #inflight = new Map<string, Promise<T>>();

  constructor(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async get(key: string, load: () => Promise<T>): Promise<T> {
    const entry = this.#entries.get(key);
    if (entry && entry.expires > this.#now()) return entry.value;
    if (entry) this.#entries.delete(key);
    const running = this.#inflight.get(key);
    if (running) return running;
    const loading = load().then(
      (value) => {
        this.#inflight.delete(key);
        // Map order is insertion order: the first key is the oldest entry.
        if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
        this.#entries.set(key, { value, expires: this.#now() + this.#ttlMs });
        return value;
      },
      (error: unknown) => {
        this.#inflight.delete(key); // failures (API server unreachable) are not cached
        throw error;
      },
    );
    this.#inflight.set(key, loading);
    return loading;
  }

  get size(): number {
    return this.#entries.size;
  }
}

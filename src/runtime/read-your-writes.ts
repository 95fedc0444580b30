import type { KubeObject } from '../api/meta.ts';
import { objectKey } from '../api/meta.ts';

/**
 * The informer cache, overlaid with the objects this process just wrote until the watch delivers
 * them. Without it, a reconcile that runs before its own status write comes back through the
 * watch would redo work already done (and spend SES calls on it).
 */
export class ReadYourWrites<T extends KubeObject> {
  readonly #source: { get(key: string): T | undefined };
  readonly #overlay = new Map<string, { object: T; until: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(source: { get(key: string): T | undefined }, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#source = source;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): T | undefined {
    const entry = this.#overlay.get(key);
    if (entry && entry.until > this.#now()) return entry.object;
    if (entry) this.#overlay.delete(key);
    return this.#source.get(key);
  }

  /** A write's response: newer than anything the watch delivered so far for this key. */
  wrote(object: T): void {
    this.#overlay.set(objectKey(object), { object, until: this.#now() + this.#ttlMs });
  }

  /** The watch delivered this object: once it is our write (same resourceVersion), the cache has caught up. */
  observed(object: T): void {
    const key = objectKey(object);
    if (this.#overlay.get(key)?.object.metadata.resourceVersion === object.metadata.resourceVersion) this.#overlay.delete(key);
  }

  deleted(key: string): void {
    this.#overlay.delete(key);
  }
}

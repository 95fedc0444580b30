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
  /** Recently delivered key@resourceVersion: a write's event can arrive before the write's response is handled. */
  readonly #seen = new Set<string>();
  readonly #seenOrder: string[] = [];
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(source: { get(key: string): T | undefined }, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#source = source;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): T | undefined {
    const entry = this.#overlay.get(key);
    const cached = this.#source.get(key);
    if (!entry) return cached;
    if (entry.until <= this.#now() || (cached && newerOrSame(cached, entry.object))) {
      this.#overlay.delete(key);
      return cached;
    }
    return entry.object;
  }

  /** A write's response: newer than what the watch delivered so far, unless the watch already delivered it. */
  wrote(object: T): void {
    const key = objectKey(object);
    if (this.#seen.has(`${key}@${object.metadata.resourceVersion}`)) return;
    this.#overlay.set(key, { object, until: this.#now() + this.#ttlMs });
  }

  /** The watch delivered this object: once it is our write (same resourceVersion), the cache has caught up. */
  observed(object: T): void {
    const key = objectKey(object);
    const version = `${key}@${object.metadata.resourceVersion}`;
    this.#seen.add(version);
    this.#seenOrder.push(version);
    if (this.#seenOrder.length > 4096) this.#seen.delete(this.#seenOrder.shift()!);
    if (this.#overlay.get(key)?.object.metadata.resourceVersion === object.metadata.resourceVersion) this.#overlay.delete(key);
  }

  deleted(key: string): void {
    this.#overlay.delete(key);
  }
}

/**
 * resourceVersions are opaque by contract, but every etcd-backed API server issues increasing
 * integers; where both parse as such, the cache wins once it has caught up (after a relist the
 * write's own event may never be delivered). Anything else leaves the overlay to its TTL.
 */
function newerOrSame(cached: KubeObject, written: KubeObject): boolean {
  const a = cached.metadata.resourceVersion;
  const b = written.metadata.resourceVersion;
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) >= BigInt(b);
}

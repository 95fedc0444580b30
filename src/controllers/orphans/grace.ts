/**
 * When each orphan was first seen, so it goes only once it has been one for the grace, at two
 * sweeps at least. In memory: after a restart the grace starts again (it delays a deletion, never hastens one).
 */
export class OrphanGrace<T> {
  readonly #key: (orphan: T) => string;
  /** Orphan key -> when it was first seen orphaned. */
  readonly #firstSeen = new Map<string, number>();

  constructor(key: (orphan: T) => string) {
    this.#key = key;
  }

  /** This sweep's orphans that were already orphans at an earlier sweep at least graceMs before; forgets any not orphaned any more. */
  due(orphans: readonly T[], now: number, graceMs: number): T[] {
    const current = new Set(orphans.map(this.#key));
    for (const seen of this.#firstSeen.keys()) if (!current.has(seen)) this.#firstSeen.delete(seen);
    const due: T[] = [];
    for (const orphan of orphans) {
      const firstSeen = this.#firstSeen.get(this.#key(orphan));
      if (firstSeen === undefined) this.#firstSeen.set(this.#key(orphan), now);
      else if (now - firstSeen >= graceMs) due.push(orphan);
    }
    return due;
  }

  /** Deleted: a new orphan under the same key starts its grace again. */
  forget(orphan: T): void {
    this.#firstSeen.delete(this.#key(orphan));
  }
}

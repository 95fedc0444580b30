import type { SesSetup } from '../api/sessetup.ts';
import type { InformerEventHandler } from '../runtime/informer.ts';

/** What the facade needs of the manager's SesSetup informer (the operator's cache: no API call per request). */
export interface SetupSource {
  get(name: string): SesSetup | undefined;
  hasSynced(): boolean;
  addEventHandler(handler: InformerEventHandler<SesSetup>): () => void;
}

type Waiter = { predicate: (setup: SesSetup | undefined) => boolean; resolve: (setup: SesSetup | undefined) => void };

interface Entry {
  name: string;
  uid: string;
  createdAt: string;
  tenant: string;
  domain: string;
}

/**
 * Indexes over the informer's SesSetups for the REST API: by UID (the API's id), tenant name and
 * domain (409 on create), and one stable order (creation time, then name) for offset pages. Kept
 * from informer events, so a page reads only the objects it shows. Also wakes requests waiting
 * for a setup to change (a fresh check, records after create).
 */
export class SetupCache {
  readonly #source: SetupSource;
  readonly #byName = new Map<string, Entry>();
  readonly #byUid = new Map<string, string>();
  readonly #byTenant = new Map<string, string>();
  readonly #byDomain = new Map<string, string>();
  /** Sorted by (createdAt, name). */
  readonly #order: Entry[] = [];
  readonly #waiters = new Map<string, Set<Waiter>>();

  constructor(source: SetupSource) {
    this.#source = source;
    source.addEventHandler({
      onAdd: (setup) => this.#changed(setup),
      onUpdate: (setup) => this.#changed(setup),
      onDelete: (setup) => this.#removed(setup.metadata.name),
    });
  }

  synced(): boolean {
    return this.#source.hasSynced();
  }

  get(name: string): SesSetup | undefined {
    return this.#source.get(name);
  }

  nameOfUid(uid: string): string | undefined {
    return this.#byUid.get(uid.toLowerCase());
  }

  nameOfTenant(tenant: string): string | undefined {
    return this.#byTenant.get(tenant);
  }

  nameOfDomain(domain: string): string | undefined {
    return this.#byDomain.get(domain.toLowerCase());
  }

  get total(): number {
    return this.#order.length;
  }

  /** Names of one page in the stable order. */
  page(offset: number, limit: number): string[] {
    return this.#order.slice(offset, offset + limit).map((entry) => entry.name);
  }

  /**
   * Resolves with the setup once `predicate` holds for it (undefined = gone), or with undefined
   * after timeoutMs. Register before the write whose effect it waits for: the event may come fast.
   */
  waitFor(name: string, predicate: (setup: SesSetup | undefined) => boolean, timeoutMs: number): { done: Promise<SesSetup | undefined>; cancel(): void } {
    let waiter!: Waiter;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<SesSetup | undefined>((resolve) => {
      waiter = {
        predicate,
        resolve: (setup) => {
          clearTimeout(timer);
          this.#waiters.get(name)?.delete(waiter);
          if (this.#waiters.get(name)?.size === 0) this.#waiters.delete(name);
          resolve(setup);
        },
      };
    });
    let set = this.#waiters.get(name);
    if (!set) this.#waiters.set(name, (set = new Set()));
    set.add(waiter);
    timer = setTimeout(() => waiter.resolve(undefined), timeoutMs);
    return { done, cancel: () => waiter.resolve(undefined) };
  }

  #changed(setup: SesSetup): void {
    const { name, uid = '', creationTimestamp = '' } = setup.metadata;
    const entry: Entry = {
      name,
      uid,
      createdAt: creationTimestamp,
      tenant: setup.spec?.tenantName ?? '',
      domain: (setup.spec?.domainIdentity ?? '').toLowerCase(),
    };
    const previous = this.#byName.get(name);
    if (!previous || previous.uid !== entry.uid || previous.tenant !== entry.tenant || previous.domain !== entry.domain) {
      if (previous) this.#removed(name, false);
      this.#byName.set(name, entry);
      if (entry.uid) this.#byUid.set(entry.uid.toLowerCase(), name);
      if (entry.tenant) this.#byTenant.set(entry.tenant, name);
      if (entry.domain) this.#byDomain.set(entry.domain, name);
      this.#order.splice(this.#position(entry), 0, entry);
    }
    this.#wake(name, setup);
  }

  #removed(name: string, wake = true): void {
    const entry = this.#byName.get(name);
    if (entry) {
      this.#byName.delete(name);
      if (this.#byUid.get(entry.uid.toLowerCase()) === name) this.#byUid.delete(entry.uid.toLowerCase());
      if (this.#byTenant.get(entry.tenant) === name) this.#byTenant.delete(entry.tenant);
      if (this.#byDomain.get(entry.domain) === name) this.#byDomain.delete(entry.domain);
      const at = this.#position(entry);
      if (this.#order[at]?.name === name) this.#order.splice(at, 1);
    }
    if (wake) this.#wake(name, undefined);
  }

  /** Binary search: where the entry is, or would go. */
  #position(entry: Entry): number {
    let [low, high] = [0, this.#order.length];
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.#order[mid]!;
      if (other.createdAt < entry.createdAt || (other.createdAt === entry.createdAt && other.name < entry.name)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #wake(name: string, setup: SesSetup | undefined): void {
    for (const waiter of [...(this.#waiters.get(name) ?? [])]) if (waiter.predicate(setup)) waiter.resolve(setup);
  }
}

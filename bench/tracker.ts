import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP, SES_SETUP, VERSION } from '../src/api/group.ts';
import type { SesSetup } from '../src/api/sessetup.ts';
import { Informer } from '../src/runtime/informer.ts';

type Waiter = { test: (setup: SesSetup) => boolean; resolve: (at: number) => void };

/**
 * The harness's own watch on SesSetups: when each one was applied, first showed its records in
 * status, turned Ready, and disappeared, as any client watching the API would see it.
 */
export class SetupTracker {
  readonly informer: Informer<SesSetup>;
  readonly appliedAt = new Map<string, number>();
  readonly recordsAt = new Map<string, number>();
  /** The operator's own clock at the check that first wrote the records (status.dnsCheckedAt): watch lag aside. */
  readonly recordsCheckedAt = new Map<string, number>();
  readonly readyAt = new Map<string, number>();
  readonly goneAt = new Map<string, number>();
  /** Watch events that changed an existing object: every API write to a SesSetup shows up here. */
  modified = 0;
  readonly #waiters = new Map<string, Waiter[]>();

  constructor(kc: KubeConfig) {
    this.informer = new Informer<SesSetup>({ kc, path: `/apis/${GROUP}/${VERSION}/${SES_SETUP.plural}`, name: 'bench' });
    const seen = (setup: SesSetup) => {
      const at = Date.now();
      const name = setup.metadata.name;
      if (!this.recordsAt.has(name) && (setup.status?.dnsRecords?.length ?? 0) > 0) {
        this.recordsAt.set(name, at);
        if (setup.status?.dnsCheckedAt) this.recordsCheckedAt.set(name, Date.parse(setup.status.dnsCheckedAt));
      }
      if (!this.readyAt.has(name) && setup.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) this.readyAt.set(name, at);
      const waiters = this.#waiters.get(name);
      if (!waiters) return;
      for (const waiter of [...waiters]) {
        if (!waiter.test(setup)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(at);
      }
      if (waiters.length === 0) this.#waiters.delete(name);
    };
    this.informer.addEventHandler({
      onAdd: seen,
      onUpdate: (setup) => {
        this.modified++;
        seen(setup);
      },
      onDelete: (setup) => this.goneAt.set(setup.metadata.name, Date.now()),
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Resolves with the arrival time of the first watch event for `name` that passes `test` (or the cached object, if it already does). */
  waitFor(name: string, test: (setup: SesSetup) => boolean): Promise<number> {
    const cached = this.informer.get(name);
    if (cached && test(cached)) return Promise.resolve(Date.now());
    return new Promise((resolve) => {
      let list = this.#waiters.get(name);
      if (!list) this.#waiters.set(name, (list = []));
      list.push({ test, resolve });
    });
  }

  /** Forgets the timings of earlier scenarios' setups with these names. */
  forget(names: string[]): void {
    for (const name of names) {
      this.appliedAt.delete(name);
      this.recordsAt.delete(name);
      this.recordsCheckedAt.delete(name);
      this.readyAt.delete(name);
      this.goneAt.delete(name);
    }
  }

  count(map: Map<string, number>, names: readonly string[]): number {
    let n = 0;
    for (const name of names) if (map.has(name)) n++;
    return n;
  }

  /** Per-name durations from apply to the event in `map`, for the names that have both. */
  latencies(map: Map<string, number>, names: readonly string[], from: Map<string, number> = this.appliedAt): number[] {
    const out: number[] = [];
    for (const name of names) {
      const start = from.get(name);
      const end = map.get(name);
      if (start !== undefined && end !== undefined) out.push(end - start);
    }
    return out;
  }
}

/** A watch event carrying at least this resourceVersion: the write it follows has been delivered. */
export function atLeast(resourceVersion: string | undefined): (setup: SesSetup) => boolean {
  const wanted = BigInt(resourceVersion ?? '0');
  return (setup) => BigInt(setup.metadata.resourceVersion ?? '0') >= wanted;
}

import type { KubeConfig } from '@kubernetes/client-node';
import { FINALIZER, GROUP, VERSION } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { isResourceExpired, kubeListWatch } from '../../src/runtime/informer.ts';

/** One status a watcher saw with Ready=True while a record was not verified. */
export interface ReadyViolation {
  name: string;
  resourceVersion?: string;
  detail: string;
}

/**
 * Watches every SesSetup whose name matches `include` and checks each version the API server
 * delivers: a setup must never be reported Ready while a record is unverified. It survives
 * kube-apiserver restarts (re-watches from the last resourceVersion, re-lists on 410), and
 * calls `onSetup` for every version, which the scenarios use to publish DNS records as a customer would.
 */
export class SetupObserver {
  readonly latest = new Map<string, SesSetup>();
  readonly lastSeenAt = new Map<string, number>();
  /** Per setup, every event seen (time, type, resourceVersion, finalizers, deletion): for post-mortems. */
  readonly journal = new Map<string, string[]>();
  readonly violations: ReadyViolation[] = [];
  /** Every status message seen per setup (record messages and conditions), for scenario checks. */
  readonly messages = new Map<string, Set<string>>();
  versions = 0;
  reconnects = 0;
  /** Values that must never appear in an object (credentials, tokens): each version is searched for them. */
  needles: string[] = [];
  readonly secretsFound: string[] = [];
  readonly #abort = new AbortController();
  readonly #include: (name: string) => boolean;
  readonly #onSetup: ((setup: SesSetup) => void) | undefined;
  #running: Promise<void> | undefined;
  #synced!: Promise<void>;

  constructor(kc: KubeConfig, include: (name: string) => boolean, onSetup?: (setup: SesSetup) => void) {
    this.#include = include;
    this.#onSetup = onSetup;
    const source = kubeListWatch(kc, `/apis/${GROUP}/${VERSION}/sessetups`);
    let markSynced!: () => void;
    this.#synced = new Promise((resolve) => (markSynced = resolve));
    const signal = this.#abort.signal;
    this.#running = (async () => {
      let resourceVersion = '';
      while (!signal.aborted) {
        try {
          if (!resourceVersion) {
            const page = await source.list({ limit: 0 }, signal);
            for (const item of page.items) this.#see(item as SesSetup, 'LIST');
            resourceVersion = page.resourceVersion;
            markSynced();
          }
          const events = await source.watch({ resourceVersion, timeoutSeconds: 60 }, signal);
          for await (const event of events) {
            if (event.type === 'ERROR') {
              const status = event.object as { code?: number };
              if (status.code === 410) resourceVersion = '';
              break;
            }
            const object = event.object as SesSetup;
            if (object?.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
            if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#see(object, event.type);
            if (event.type === 'DELETED' && include(object.metadata.name)) {
              this.latest.delete(object.metadata.name);
              this.#note(object, 'DELETED');
            }
          }
        } catch (error) {
          if (signal.aborted) break;
          this.reconnects++;
          if (isResourceExpired(error)) resourceVersion = '';
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    })();
  }

  /**
   * Setups the API server removed while they carried the operator's finalizer, never marked for
   * deletion (kubernetes/kubernetes#77988): the last event is a DELETED with the finalizer on.
   */
  removedCarryingFinalizer(): string[] {
    return [...this.journal]
      .filter(([, events]) => events.at(-1)?.includes('DELETED') && events.at(-1)?.includes(FINALIZER) && !events.some((e) => e.endsWith(' deleting')))
      .map(([name]) => name);
  }

  /** Resolves after the first full listing. */
  synced(): Promise<void> {
    return this.#synced;
  }

  messagesOf(name: string): string[] {
    return [...(this.messages.get(name) ?? [])];
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  #note(setup: SesSetup, how: string): void {
    const name = setup.metadata.name;
    const lines = this.journal.get(name) ?? [];
    this.journal.set(name, lines);
    const m = setup.metadata;
    lines.push(
      `${new Date().toISOString().slice(11, 23)} ${how} rv=${m.resourceVersion} fin=${JSON.stringify(m.finalizers ?? [])}${m.deletionTimestamp ? ' deleting' : ''}`,
    );
  }

  #see(setup: SesSetup, how: string): void {
    const name = setup.metadata?.name;
    if (!name || !this.#include(name)) return;
    this.versions++;
    this.#note(setup, how);
    if (this.needles.length) {
      const text = JSON.stringify(setup);
      for (const needle of this.needles) if (text.includes(needle)) this.secretsFound.push(`${name} rv ${setup.metadata.resourceVersion}`);
    }
    this.latest.set(name, setup);
    this.lastSeenAt.set(name, Date.now());
    const status = setup.status;
    const messages = this.messages.get(name) ?? new Set<string>();
    this.messages.set(name, messages);
    for (const record of status?.dnsRecords ?? []) if (record.message) messages.add(record.message);
    for (const condition of status?.conditions ?? []) messages.add(`${condition.type}=${condition.status} ${condition.reason}: ${condition.message}`);
    const ready = status?.conditions?.find((condition) => condition.type === 'Ready');
    if (ready?.status === 'True') {
      const records = status?.dnsRecords ?? [];
      const unverified = records.filter((record) => !record.verified);
      if (records.length === 0 || unverified.length > 0 || status?.dnsVerified !== true) {
        this.violations.push({
          name,
          resourceVersion: setup.metadata.resourceVersion,
          detail: `${how}: Ready=True with ${records.length} records, ${unverified.length} unverified (${unverified.map((r) => r.name).join(', ')}), dnsVerified=${status?.dnsVerified}`,
        });
      }
    }
    this.#onSetup?.(setup);
  }
}

import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { ReferrerIndex } from '../../../../src/controllers/referrers.ts';
import { ClaimIndex } from '../../../../src/controllers/sessetup/claims.ts';
import { DEFAULT_RECHECK, RecheckSchedule } from '../../../../src/controllers/sessetup/recheck-schedule.ts';
import { SesSetupReconciler, type SesSetupReconcilerDeps } from '../../../../src/controllers/sessetup/reconciler.ts';
import { FakeDns } from '../../../support/fakes/dns.ts';
import { createMergePatch } from '../../../../src/runtime/merge-patch.ts';
import { MemorySes } from '../../../support/memory-ses.ts';

/** The SesSetup reconciler's world in memory: SES, DNS, the API server and a clock, shared by its unit tests. */

export const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };

export { FakeDns };

/** The API server as the reconciler sees it: objects by name, status merge patches, finalizer patches. */
export class FakeCluster {
  readonly objects = new Map<string, SesSetup>();
  /** Writes that changed something. */
  writes = 0;
  /** Reads of a stored object straight from the API server (not the informer's cache). */
  reads = 0;
  /** Every patchStatus call, whether it changed anything or not. */
  statusPatchCalls = 0;
  /** Set: every status write fails with it (an API server that cannot take writes). */
  failWrites: Error | undefined;
  #rv = 1;
  put(setup: SesSetup): void {
    setup.metadata.resourceVersion = String(this.#rv++);
    this.objects.set(setup.metadata.name, setup);
  }
  readonly client = {
    patchStatus: async <T>(object: T & SesSetup, status: unknown) => {
      this.statusPatchCalls++;
      if (this.failWrites) throw this.failWrites;
      if (createMergePatch(object.status ?? {}, status) === undefined) return undefined;
      this.writes++;
      const stored = structuredClone(this.objects.get(object.metadata.name)!);
      stored.status = structuredClone(status) as SesSetup['status'];
      this.put(stored);
      return structuredClone(stored) as T;
    },
    addFinalizer: async <T>(object: T & SesSetup, finalizer: string, annotations: Record<string, string> = {}) => {
      this.writes++;
      const stored = this.objects.get(object.metadata.name)!;
      stored.metadata.finalizers = [...(stored.metadata.finalizers ?? []), finalizer];
      if (Object.keys(annotations).length > 0) stored.metadata.annotations = { ...stored.metadata.annotations, ...annotations };
      this.put(stored);
      return structuredClone(stored) as T;
    },
    read: async <T>(object: T & SesSetup) => {
      this.reads++;
      const stored = this.objects.get(object.metadata.name);
      return stored && (structuredClone(stored) as T);
    },
    removeFinalizer: async <T>(object: T & SesSetup, finalizer: string) => {
      this.writes++;
      const stored = this.objects.get(object.metadata.name)!;
      stored.metadata.finalizers = stored.metadata.finalizers?.filter((f) => f !== finalizer);
      if (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length) this.objects.delete(object.metadata.name);
      return structuredClone(stored) as T;
    },
  };
  /** Marks a stored object deleted, as a DELETE of an object with finalizers does (the generation moves too). */
  markDeleted(name: string, at = '2026-11-28T12:01:00Z'): void {
    const stored = this.objects.get(name)!;
    stored.metadata.deletionTimestamp = at;
    stored.metadata.generation = (stored.metadata.generation ?? 1) + 1;
    this.put(stored);
  }
}

export function newSetup(name: string, spec: Partial<SesSetup['spec']> = {}, created = '2026-11-28T10:00:00Z'): SesSetup {
  return {
    apiVersion: 'ses.channels.dev/v1alpha1',
    kind: 'SesSetup',
    metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: created },
    spec: {
      tenantName: `${name}_t`,
      domainIdentity: `${name}.example.test`,
      deletionPolicy: 'Delete',
      adoptionPolicy: 'Never',
      dnsPublication: 'Manual',
      ...spec,
    },
  };
}

export const condition = (setup: SesSetup | undefined, type: string) => setup?.status?.conditions?.find((c) => c.type === type);

/** A reconciler over fresh doubles; `reconcilerWith` builds another one over the same world (an operator restart). */
/** The benchmark's re-check pace: 100 ms, no backoff, with an SES budget that does not stretch it. */
export function fastPaceSchedule(): RecheckSchedule {
  return new RecheckSchedule({ ...DEFAULT_RECHECK, fastMs: 100, fastMaxMs: 100, sesRatePerSecond: 1_000 }, () => 0.5);
}

export function reconcilerFixture(options: Partial<SesSetupReconcilerDeps> = {}) {
  const ses = new MemorySes();
  const dns = new FakeDns();
  const cluster = new FakeCluster();
  const claims = new ClaimIndex();
  const referrers = new ReferrerIndex();
  const events: { reason: string; type: string; message: string }[] = [];
  const clock = { now: Date.parse('2026-11-28T12:00:00Z') };
  const reconcilerWith = (overrides: Partial<SesSetupReconcilerDeps> = {}) =>
    new SesSetupReconciler({
      setups: { get: (name) => structuredClone(cluster.objects.get(name)), size: () => cluster.objects.size },
      claims,
      referrers,
      ses,
      dns,
      client: cluster.client,
      events: { emit: (_o, type, reason, message) => events.push({ type, reason, message }) },
      logger: silent,
      defaultRegion: 'eu-west-1',
      schedule: new RecheckSchedule(DEFAULT_RECHECK, () => 0.5),
      now: () => clock.now,
      ...options,
      ...overrides,
    });
  /** What the manager does on every informer event: store the object and keep the claim index current. */
  const apply = (setup: SesSetup) => {
    cluster.put(setup);
    claims.set(setup);
  };
  return { ses, dns, cluster, claims, referrers, events, clock, reconciler: reconcilerWith(), reconcilerWith, apply };
}

/** A new setup `a`, reconciled, its records published and verified by SES, reconciled again a minute later: verified, Ready. */
export async function reconcileToVerified(f: ReturnType<typeof reconcilerFixture>): Promise<void> {
  f.apply(newSetup('a'));
  await f.reconciler.reconcile('a');
  f.dns.publishFor(f.cluster.objects.get('a')!);
  f.ses.identities.get('a.example.test')!.dkimStatus = 'SUCCESS';
  f.ses.identities.get('a.example.test')!.verificationStatus = 'SUCCESS';
  f.clock.now += 60_000;
  await f.reconciler.reconcile('a');
}

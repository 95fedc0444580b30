import { describe, expect, it } from 'vitest';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { ReferrerIndex } from '../../../../src/controllers/referrers.ts';
import { ClaimIndex } from '../../../../src/controllers/sessetup/claims.ts';
import { DEFAULT_RECHECK, RecheckSchedule } from '../../../../src/controllers/sessetup/recheck-schedule.ts';
import { SesSetupReconciler } from '../../../../src/controllers/sessetup/reconciler.ts';
import type { DnsLookup, LookupResult } from '../../../../src/dns/lookup.ts';
import { MemorySes } from '../../../support/memory-ses.ts';

/** Bugs the fault suite (test/faults) found against the real stack, pinned down with in-memory doubles. */

const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };

function newSetup(name: string, spec: Partial<SesSetup['spec']> = {}, created = '2026-11-28T10:00:00Z'): SesSetup {
  return {
    apiVersion: 'ses.channels.dev/v1alpha1',
    kind: 'SesSetup',
    metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: created, resourceVersion: '1' },
    spec: { tenantName: `${name}_t`, domainIdentity: `${name}.example.test`, deletionPolicy: 'Delete', adoptionPolicy: 'Never', ...spec },
  };
}

function harness() {
  const answers = new Map<string, string[]>();
  const dns: DnsLookup = {
    async lookup(type, name): Promise<LookupResult> {
      const found = answers.get(`${type} ${name}`);
      return found ? { ok: true, answers: found } : { ok: false, failure: 'NXDOMAIN', detail: 'no such name' };
    },
  };
  const stored = new Map<string, SesSetup>();
  const state = { failWrites: false, now: Date.parse('2026-11-28T12:00:00Z') };
  const ses = new MemorySes();
  const claims = new ClaimIndex();
  const reconciler = new SesSetupReconciler({
    setups: { get: (name) => structuredClone(stored.get(name)), size: () => stored.size },
    claims,
    referrers: new ReferrerIndex(),
    ses,
    dns,
    client: {
      patchStatus: async <T>(object: T & SesSetup, status: unknown) => {
        if (state.failWrites) throw Object.assign(new Error('storage is (re)initializing'), { code: 503 });
        const next = { ...structuredClone(stored.get(object.metadata.name)!), status: structuredClone(status) as SesSetup['status'] };
        stored.set(object.metadata.name, next);
        return structuredClone(next) as T;
      },
      addFinalizer: async <T>(object: T & SesSetup) => {
        stored.get(object.metadata.name)!.metadata.finalizers = ['ses.channels.dev/finalizer'];
        return structuredClone(stored.get(object.metadata.name)) as T;
      },
      removeFinalizer: async <T>(object: T) => object,
    },
    events: { emit: () => {} },
    logger: silent,
    defaultRegion: 'eu-west-1',
    schedule: new RecheckSchedule(DEFAULT_RECHECK, () => 0.5),
    now: () => state.now,
  });
  /** What the manager does on every informer event: keep the claim index current. */
  const apply = (setup: SesSetup) => {
    stored.set(setup.metadata.name, setup);
    claims.set(setup);
  };
  return { answers, stored, state, ses, claims, reconciler, apply };
}

const condition = (setup: SesSetup | undefined, type: string) => setup?.status?.conditions?.find((c) => c.type === type);

describe('a DNS check whose status write fails', () => {
  // kube-apiserver restarts: the write failed (503 while it started), yet the check was booked as
  // done, so the retry found nothing due and the stale "not verified" status stayed for an hour.
  it('runs again on the retry instead of waiting for the next scheduled check', async () => {
    const h = harness();
    h.apply(newSetup('a'));
    await h.reconciler.reconcile('a');
    expect(h.stored.get('a')!.status?.dnsVerified).toBe(false);
    // The customer publishes every record and SES verifies DKIM; the next check finds all five...
    for (const record of h.stored.get('a')!.status!.dnsRecords!) h.answers.set(`${record.type} ${record.name}`, [record.value]);
    for (const identity of h.ses.identities.values()) identity.dkimStatus = 'SUCCESS';
    h.state.now += 60_000;
    h.state.failWrites = true; // ...but the API server cannot take the status write.
    await expect(h.reconciler.reconcile('a')).rejects.toThrow('storage is (re)initializing');
    expect(h.stored.get('a')!.status?.dnsVerified).toBe(false);

    h.state.failWrites = false;
    h.state.now += 100; // the controller's rate-limited retry, moments later
    await h.reconciler.reconcile('a');
    expect(h.stored.get('a')!.status?.dnsVerified).toBe(true);
    expect(condition(h.stored.get('a'), 'Ready')?.status).toBe('True');
  });
});

describe('two setups created in the same second for one tenantName', () => {
  // creationTimestamp has one-second resolution, ties go by name: "z", reconciled alone first,
  // created the tenant; then "a" appeared and won the tie. "z" turned TenantNameConflict and "a"
  // TenantNotOwned (the tenant carries z's UID): neither could ever proceed.
  it('leave the claim with the one that already created the tenant; the other reports the conflict', async () => {
    const h = harness();
    const second = '2026-11-28T10:00:00Z';
    h.apply(newSetup('z', { tenantName: 'shared' }, second));
    await h.reconciler.reconcile('z');
    h.apply(h.stored.get('z')!); // the informer delivers z's status write
    expect(h.stored.get('z')!.status?.tenant?.name).toBe('shared');

    h.apply(newSetup('a', { tenantName: 'shared' }, second));
    const callsBefore = h.ses.calls.length;
    await h.reconciler.reconcile('a');
    expect(h.ses.calls.length).toBe(callsBefore); // touches nothing in SES
    expect(condition(h.stored.get('a'), 'Ready')).toMatchObject({ status: 'False', reason: 'TenantNameConflict' });
    expect(condition(h.stored.get('a'), 'Ready')?.message).toContain('already claimed by SesSetup z');

    await h.reconciler.reconcile('z');
    expect(condition(h.stored.get('z'), 'TenantReady')?.status).toBe('True');
    expect(condition(h.stored.get('z'), 'Ready')?.reason).not.toBe('TenantNameConflict');
  });
});

describe('a SesSetup removed without its finalizer being honoured', () => {
  // kube-apiserver lets a DELETE that read the object just before the finalizer was added remove it
  // anyway (kubernetes/kubernetes#77988): the watch shows ADDED, MODIFIED (finalizer), DELETED, never
  // a deletionTimestamp. The reconcile in flight created tenant, identity and association: leaked.
  it('has its SES resources torn down on the next reconcile of its name', async () => {
    const h = harness();
    h.apply(newSetup('gone'));
    await h.reconciler.reconcile('gone');
    expect(h.ses.tenants.size).toBe(1);
    const last = structuredClone(h.stored.get('gone')!);
    expect(last.metadata.finalizers).toEqual(['ses.channels.dev/finalizer']);
    h.stored.delete('gone');
    h.reconciler.vanished(last);
    await h.reconciler.reconcile('gone');
    expect(h.ses.tenants.size).toBe(0);
    expect(h.ses.identities.size).toBe(0);
    expect(h.ses.associations.size).toBe(0);
  });

  it('leaves a normal deletion (deletionTimestamp set, finalizer handled) alone, and only tags deletionPolicy Retain as retained', async () => {
    const h = harness();
    h.apply(newSetup('kept', { deletionPolicy: 'Retain' }));
    h.apply(newSetup('normal'));
    await h.reconciler.reconcile('kept');
    await h.reconciler.reconcile('normal');
    const kept = structuredClone(h.stored.get('kept')!);
    const normal = structuredClone(h.stored.get('normal')!);
    normal.metadata.deletionTimestamp = '2026-11-28T12:00:00Z';
    h.stored.delete('kept');
    h.stored.delete('normal');
    h.reconciler.vanished(kept);
    h.reconciler.vanished(normal);
    const calls = h.ses.calls.length;
    await h.reconciler.reconcile('kept');
    await h.reconciler.reconcile('normal');
    // Retain deletes nothing; it only tags what it keeps so the orphan sweep leaves it alone.
    expect(h.ses.calls.slice(calls)).toEqual(['GetTenant', 'GetEmailIdentity', 'TagResource', 'TagResource']);
    expect(h.ses.tenants.size).toBe(2);
    expect(h.ses.tenants.get('kept_t')!.tags['ses.channels.dev/retained']).toBe('true');
    expect(h.ses.identities.get('kept.example.test')!.tags['ses.channels.dev/retained']).toBe('true');
    expect(h.ses.tenants.get('normal_t')!.tags['ses.channels.dev/retained']).toBeUndefined();
  });
});

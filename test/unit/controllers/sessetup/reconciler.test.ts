import { beforeEach, describe, expect, it } from 'vitest';
import { FINALIZER, OWNER_UID_TAG, VERIFY_ANNOTATION } from '../../../../src/api/group.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { ReferrerIndex } from '../../../../src/controllers/referrers.ts';
import { ClaimIndex } from '../../../../src/controllers/sessetup/claims.ts';
import { DEFAULT_RECHECK, RecheckSchedule } from '../../../../src/controllers/sessetup/recheck-schedule.ts';
import { SesSetupReconciler } from '../../../../src/controllers/sessetup/reconciler.ts';
import type { DnsLookup, LookupResult } from '../../../../src/dns/lookup.ts';
import { createMergePatch } from '../../../../src/runtime/merge-patch.ts';
import { SesError } from '../../../../src/ses/gateway.ts';
import { MemorySes } from '../../../support/memory-ses.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };

class FakeDns implements DnsLookup {
  readonly records = new Map<string, string[]>();
  async lookup(type: string, name: string): Promise<LookupResult> {
    const answers = this.records.get(`${type} ${name}`);
    return answers ? { ok: true, answers } : { ok: false, failure: 'NXDOMAIN', detail: 'no such name' };
  }
  publishFor(setup: SesSetup): void {
    for (const record of setup.status?.dnsRecords ?? []) this.records.set(`${record.type} ${record.name}`, [record.value]);
  }
}

/** The API server as the reconciler sees it: objects by name, status merge patches, finalizer patches. */
class FakeCluster {
  readonly objects = new Map<string, SesSetup>();
  writes = 0;
  #rv = 1;
  put(setup: SesSetup): void {
    setup.metadata.resourceVersion = String(this.#rv++);
    this.objects.set(setup.metadata.name, setup);
  }
  readonly client = {
    patchStatus: async <T>(object: T & SesSetup, status: unknown) => {
      if (createMergePatch(object.status ?? {}, status) === undefined) return undefined;
      this.writes++;
      const stored = structuredClone(this.objects.get(object.metadata.name)!);
      stored.status = structuredClone(status) as SesSetup['status'];
      this.put(stored);
      return structuredClone(stored) as T;
    },
    addFinalizer: async <T>(object: T & SesSetup, finalizer: string) => {
      this.writes++;
      const stored = this.objects.get(object.metadata.name)!;
      stored.metadata.finalizers = [...(stored.metadata.finalizers ?? []), finalizer];
      this.put(stored);
      return structuredClone(stored) as T;
    },
    removeFinalizer: async <T>(object: T & SesSetup, finalizer: string) => {
      this.writes++;
      const stored = this.objects.get(object.metadata.name)!;
      stored.metadata.finalizers = stored.metadata.finalizers?.filter((f) => f !== finalizer);
      if (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length) this.objects.delete(object.metadata.name);
      return structuredClone(stored) as T;
    },
  };
}

function newSetup(name: string, spec: Partial<SesSetup['spec']> = {}, created = '2026-11-28T10:00:00Z'): SesSetup {
  return {
    apiVersion: 'ses.channels.dev/v1alpha1',
    kind: 'SesSetup',
    metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: created },
    spec: { tenantName: `${name}_t`, domainIdentity: `${name}.example.test`, deletionPolicy: 'Delete', adoptionPolicy: 'Never', ...spec },
  };
}

describe('SesSetupReconciler (in-memory doubles)', () => {
  let ses: MemorySes;
  let dns: FakeDns;
  let cluster: FakeCluster;
  let claims: ClaimIndex;
  let referrers: ReferrerIndex;
  let events: { reason: string; type: string; message: string }[];
  let now: number;
  let reconciler: SesSetupReconciler;

  beforeEach(() => {
    ses = new MemorySes();
    dns = new FakeDns();
    cluster = new FakeCluster();
    claims = new ClaimIndex();
    referrers = new ReferrerIndex();
    events = [];
    now = Date.parse('2026-11-28T12:00:00Z');
    reconciler = new SesSetupReconciler({
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
      now: () => now,
    });
  });

  function apply(setup: SesSetup): void {
    cluster.put(setup);
    claims.set(setup);
  }

  it('creates tenant, identity and association with exactly three SES calls and writes five records', async () => {
    apply(newSetup('a'));
    const result = await reconciler.reconcile('a');
    expect(ses.calls).toEqual(['CreateTenant', 'CreateEmailIdentity', 'CreateTenantResourceAssociation']);
    const stored = cluster.objects.get('a')!;
    expect(stored.metadata.finalizers).toEqual([FINALIZER]);
    expect(stored.status?.dnsRecords?.map((r) => `${r.purpose} ${r.type} ${r.name} ${r.value}`)).toEqual([
      'DKIM CNAME t114._domainkey.a.example.test t114.dkim.amazonses.com',
      'DKIM CNAME t214._domainkey.a.example.test t214.dkim.amazonses.com',
      'DKIM CNAME t314._domainkey.a.example.test t314.dkim.amazonses.com',
      'MX MX a.example.test 10 inbound-smtp.eu-west-1.amazonaws.com',
      'DMARC TXT _dmarc.a.example.test v=DMARC1; p=none;',
    ]);
    expect(stored.status?.dnsVerified).toBe(false);
    expect(ses.tenants.get('a_t')?.tags[OWNER_UID_TAG]).toBe('uid-a');
    expect(ses.identities.get('a.example.test')?.tags[OWNER_UID_TAG]).toBe('uid-a');
    expect(result?.requeueAfterMs).toBeGreaterThan(0);
  });

  it('makes no write and no SES call on a no-op reconcile', async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    const [calls, writes] = [ses.calls.length, cluster.writes];
    await reconciler.reconcile('a');
    expect(ses.calls.length).toBe(calls);
    expect(cluster.writes).toBe(writes);
  });

  it('verifies records once published and SES says SUCCESS, then turns Ready', async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    dns.publishFor(cluster.objects.get('a')!);
    ses.identities.get('a.example.test')!.dkimStatus = 'SUCCESS';
    now += 60_000;
    await reconciler.reconcile('a');
    const status = cluster.objects.get('a')!.status!;
    expect(status.dnsRecords?.every((r) => r.verified)).toBe(true);
    expect(status.dnsVerified).toBe(true);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.conditions?.some((c) => c.type === 'Reconciling')).toBe(false);
    expect(events.some((e) => e.reason === 'Verified')).toBe(true);
  });

  it('does not call SES while the DKIM CNAMEs are not live, and names what is missing', async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    const calls = ses.calls.length;
    now += 60_000;
    await reconciler.reconcile('a');
    expect(ses.calls.length).toBe(calls);
    const dkim = cluster.objects.get('a')!.status!.dnsRecords![0]!;
    expect(dkim.verified).toBe(false);
    expect(dkim.message).toMatch(/^NXDOMAIN: t114\._domainkey\.a\.example\.test does not exist/);
  });

  it('checks at once on a new verify annotation and echoes it', async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    const stored = cluster.objects.get('a')!;
    stored.metadata.annotations = { [VERIFY_ANNOTATION]: 'now-1' };
    cluster.put(stored);
    await reconciler.reconcile('a');
    expect(ses.calls.at(-1)).toBe('GetEmailIdentity');
    expect(cluster.objects.get('a')!.status?.lastHandledVerifyRequest).toBe('now-1');
  });

  it('converges after a crash between the SES creates and the status write, without creating twice', async () => {
    apply(newSetup('a'));
    ses.failNext.set('CreateTenantResourceAssociation', new SesError('Other', 'CreateTenantResourceAssociation', 'boom'));
    // Simulate the crash: the status write of the failed pass never lands.
    const patch = cluster.client.patchStatus;
    cluster.client.patchStatus = async () => undefined;
    await expect(reconciler.reconcile('a')).rejects.toThrow('boom');
    cluster.client.patchStatus = patch;
    await reconciler.reconcile('a');
    expect(ses.calls.filter((c) => c.startsWith('Create'))).toEqual([
      'CreateTenant',
      'CreateEmailIdentity',
      'CreateTenantResourceAssociation',
      'CreateTenant',
      'CreateEmailIdentity',
      'CreateTenantResourceAssociation',
    ]);
    expect(ses.tenants.size).toBe(1);
    expect(ses.identities.size).toBe(1);
    expect(cluster.objects.get('a')!.status?.identity?.tenantAssociated).toBe(true);
  });

  it('does not take over an untagged tenant, and does with adoptionPolicy Adopt', async () => {
    await ses.createTenant('eu-west-1', 'a_t', { team: 'someone-else' });
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    let status = cluster.objects.get('a')!.status!;
    expect(status.conditions?.find((c) => c.type === 'TenantReady')).toMatchObject({ status: 'False', reason: 'TenantNotOwned' });
    expect(status.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('True');
    expect(ses.identities.size).toBe(0);
    expect(ses.tenants.get('a_t')?.tags).toEqual({ team: 'someone-else' });

    const adopting = cluster.objects.get('a')!;
    adopting.spec.adoptionPolicy = 'Adopt';
    adopting.metadata.generation = 2;
    cluster.put(adopting);
    await reconciler.reconcile('a');
    status = cluster.objects.get('a')!.status!;
    expect(status.tenant?.adopted).toBe(true);
    expect(ses.tenants.get('a_t')?.tags[OWNER_UID_TAG]).toBe('uid-a');
    expect(status.conditions?.find((c) => c.type === 'TenantReady')?.status).toBe('True');
  });

  it('reports a conflict for the later of two setups claiming one tenantName and touches nothing', async () => {
    apply(newSetup('first', { tenantName: 'shared' }, '2026-11-28T10:00:00Z'));
    apply(newSetup('second', { tenantName: 'shared' }, '2026-11-28T10:00:05Z'));
    await reconciler.reconcile('second');
    expect(ses.calls).toEqual([]);
    const ready = cluster.objects.get('second')!.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'TenantNameConflict' });
    expect(ready?.message).toContain('already claimed by SesSetup first');
  });

  it('blocks deletion while referrers exist, then deletes identity and tenant', async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    referrers.set('emailusecases/billing/invoices', 'EmailUseCase billing/invoices', 'a');
    const deleting = cluster.objects.get('a')!;
    deleting.metadata.deletionTimestamp = '2026-11-28T12:01:00Z';
    cluster.put(deleting);
    const calls = ses.calls.length;
    await reconciler.reconcile('a');
    expect(ses.calls.length).toBe(calls);
    const blocked = cluster.objects.get('a')!.status?.conditions?.find((c) => c.type === 'DeletionBlocked');
    expect(blocked).toMatchObject({ status: 'True', reason: 'ReferencedBy' });
    expect(blocked?.message).toContain('EmailUseCase billing/invoices');
    expect(events.find((e) => e.reason === 'DeletionBlocked')?.type).toBe('Warning');

    referrers.remove('emailusecases/billing/invoices');
    await reconciler.reconcile('a');
    expect(ses.tenants.size).toBe(0);
    expect(ses.identities.size).toBe(0);
    expect(ses.associations.size).toBe(0);
    expect(cluster.objects.has('a')).toBe(false);
  });

  it('keeps SES resources with deletionPolicy Retain and never deletes what it does not own', async () => {
    apply(newSetup('keep', { deletionPolicy: 'Retain' }));
    await reconciler.reconcile('keep');
    const keep = cluster.objects.get('keep')!;
    keep.metadata.deletionTimestamp = '2026-11-28T12:01:00Z';
    cluster.put(keep);
    await reconciler.reconcile('keep');
    expect(cluster.objects.has('keep')).toBe(false);
    expect(ses.tenants.has('keep_t')).toBe(true);
    expect(ses.tenants.get('keep_t')!.tags['ses.channels.dev/retained']).toBe('true');
    expect(ses.identities.get('keep.example.test')!.tags['ses.channels.dev/retained']).toBe('true');

    await ses.createEmailIdentity('eu-west-1', 'foreign.example.test', {});
    apply(newSetup('foreign', { domainIdentity: 'foreign.example.test' }));
    await reconciler.reconcile('foreign');
    const foreign = cluster.objects.get('foreign')!;
    foreign.metadata.deletionTimestamp = '2026-11-28T12:01:00Z';
    cluster.put(foreign);
    await reconciler.reconcile('foreign');
    expect(ses.identities.has('foreign.example.test')).toBe(true);
    expect(ses.tenants.has('foreign_t')).toBe(false);
    expect(events.some((e) => e.reason === 'NotOwned')).toBe(true);
  });
});

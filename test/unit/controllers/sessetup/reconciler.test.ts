import { beforeEach, describe, expect, it } from 'vitest';
import { FINALIZER, OWNER_UID_TAG, VERIFY_ANNOTATION } from '../../../../src/api/group.ts';
import type { ReferrerIndex } from '../../../../src/controllers/referrers.ts';
import type { SesSetupReconciler } from '../../../../src/controllers/sessetup/reconciler.ts';
import { DEFAULT_RECHECK, RecheckSchedule } from '../../../../src/controllers/sessetup/recheck-schedule.ts';
import { SesError } from '../../../../src/ses/gateway.ts';
import type { MemorySes } from '../../../support/memory-ses.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { newSetup, reconcilerFixture, type FakeCluster, type FakeDns } from './fixture.ts';

describe('SesSetupReconciler (in-memory doubles)', () => {
  let ses: MemorySes;
  let dns: FakeDns;
  let cluster: FakeCluster;
  let referrers: ReferrerIndex;
  let events: { reason: string; type: string; message: string }[];
  let clock: { now: number };
  let reconciler: SesSetupReconciler;
  let apply: (setup: SesSetup) => void;
  let reconcilerWith: ReturnType<typeof reconcilerFixture>['reconcilerWith'];

  beforeEach(() => {
    ({ ses, dns, cluster, referrers, events, clock, reconciler, apply, reconcilerWith } = reconcilerFixture());
  });

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

  it('creates nothing in SES when a delete raced the finalizer write and removed the object after it (kubernetes#77988)', async () => {
    for (const race of ['gone', 'recreated'] as const) {
      const f = reconcilerFixture();
      f.apply(newSetup('a'));
      const addFinalizer = f.cluster.client.addFinalizer;
      f.cluster.client.addFinalizer = async (object, finalizer, annotations) => {
        const written = await addFinalizer(object, finalizer, annotations);
        // The API server answered the write, then the delete that had started before it went through.
        f.cluster.objects.delete('a');
        if (race === 'recreated') f.cluster.put({ ...newSetup('a'), metadata: { ...newSetup('a').metadata, uid: 'uid-a2' } });
        return written;
      };
      await f.reconciler.reconcile('a');
      expect(f.cluster.reads, race).toBe(1);
      expect(f.ses.calls, race).toEqual([]);
    }
  });

  it('reads the object back only after adding the finalizer, not on later reconciles', async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    expect(cluster.reads).toBe(1);
    expect(ses.calls).toContain('CreateTenant');
    clock.now += 60_000;
    await reconciler.reconcile('a');
    expect(cluster.reads).toBe(1);
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
    clock.now += 60_000;
    await reconciler.reconcile('a');
    const status = cluster.objects.get('a')!.status!;
    expect(status.dnsRecords?.every((r) => r.verified)).toBe(true);
    expect(status.dnsVerified).toBe(true);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.conditions?.some((c) => c.type === 'Reconciling')).toBe(false);
    expect(events.some((e) => e.reason === 'Verified')).toBe(true);
  });

  it("queues the next check as urgent while someone waits on the setup, and a verified setup's as routine upkeep", async () => {
    apply(newSetup('a'));
    expect((await reconciler.reconcile('a'))?.priority).toBe('urgent');
    dns.publishFor(cluster.objects.get('a')!);
    ses.identities.get('a.example.test')!.dkimStatus = 'SUCCESS';
    clock.now += 60_000;
    const verified = await reconciler.reconcile('a');
    expect(cluster.objects.get('a')!.status?.dnsVerified).toBe(true);
    expect(verified).toMatchObject({ priority: 'routine' });
    expect(verified?.requeueAfterMs).toBeGreaterThan(0);
  });

  it('does not call SES while the DKIM CNAMEs are not live, and names what is missing', async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    const calls = ses.calls.length;
    clock.now += 60_000;
    await reconciler.reconcile('a');
    expect(ses.calls.length).toBe(calls);
    const dkim = cluster.objects.get('a')!.status!.dnsRecords![0]!;
    expect(dkim.verified).toBe(false);
    expect(dkim.message).toMatch(/^NXDOMAIN: t114\._domainkey\.a\.example\.test does not exist/);
  });

  it("re-checks just after SES's own check once the CNAMEs are live and only SES is left to verify them", async () => {
    apply(newSetup('a'));
    const first = await reconciler.reconcile('a');
    // Nothing published yet: the fast pace (10 s, the fixture's jitter is neutral).
    expect(first?.requeueAfterMs).toBe(10_000);
    dns.publishFor(cluster.objects.get('a')!);
    clock.now += 10_000;
    const second = await reconciler.reconcile('a');
    expect(ses.calls.at(-1)).toBe('GetEmailIdentity');
    // Live, SES still PENDING: SES's period (5 s while SES has not told it) + a 500 ms margin, jittered only later (+50 ms).
    expect(second?.requeueAfterMs).toBe(5_550);
    // That re-check is announced to the SES rate limit (its token is kept); the fast pace before it was not.
    expect(ses.expectedUrgentCalls).toEqual([5_550]);
    ses.identities.get('a.example.test')!.dkimStatus = 'SUCCESS';
    clock.now += 5_550;
    await reconciler.reconcile('a');
    expect(cluster.objects.get('a')!.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // Verified: its upkeep is routine, announced to nobody.
    expect(ses.expectedUrgentCalls).toEqual([5_550]);
  });

  it("counts the wait for SES from the identity's creation when its CNAMEs are live at the first look", async () => {
    apply(newSetup('a'));
    const associate = ses.associate.bind(ses);
    ses.associate = async (...args) => {
      // Records published beforehand; the (rate-limited) association comes 1.5 s after the identity.
      for (const token of ses.identities.get('a.example.test')!.dkimTokens) {
        dns.records.set(`CNAME ${token}._domainkey.a.example.test`, [`${token}.dkim.amazonses.com`]);
      }
      clock.now += 1_500;
      return associate(...args);
    };
    const result = await reconciler.reconcile('a');
    expect(ses.calls).not.toContain('GetEmailIdentity');
    // SES's period (5 s until learned) + margin + jitter, from the identity's creation 1.5 s ago.
    expect(result?.requeueAfterMs).toBe(5_550 - 1_500);
    // Woken in between (another event): not due yet, so no SES call, and SES's expected check stays where it was.
    clock.now += 2_000;
    expect((await reconciler.reconcile('a'))?.requeueAfterMs).toBe(2_050);
    expect(ses.calls).not.toContain('GetEmailIdentity');
    // A creation slower than SES's period: the re-check is due at once (1 ms: 0 would mean none).
    apply(newSetup('b'));
    ses.associate = async (...args) => {
      for (const token of ses.identities.get('b.example.test')!.dkimTokens) {
        dns.records.set(`CNAME ${token}._domainkey.b.example.test`, [`${token}.dkim.amazonses.com`]);
      }
      clock.now += 6_000;
      return associate(...args);
    };
    expect((await reconciler.reconcile('b'))?.requeueAfterMs).toBe(1);
  });

  it("re-checks just after SES's next look at the identity when SES's answer says when it last looked", async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    dns.publishFor(cluster.objects.get('a')!);
    clock.now += 10_000;
    // SES last checked the identity 2 s ago, before the records were live: it looks again 3 s from now.
    ses.identities.get('a.example.test')!.lastCheckedAt = clock.now - 2_000;
    // SES's period (5 s until learned) + margin (500 ms) + jitter (50 ms), from SES's last look.
    expect((await reconciler.reconcile('a'))?.requeueAfterMs).toBe(3_550);
  });

  it("waits for the period SES's answers taught the schedule", async () => {
    const schedule = new RecheckSchedule(DEFAULT_RECHECK, () => 0.5);
    for (let i = 0; i < 16; i++) schedule.sesCheckPeriod.observe({ dkimStatus: 'SUCCESS', lastCheckedAt: 0 }, 12_000);
    const learned = reconcilerWith({ schedule });
    apply(newSetup('a'));
    await learned.reconcile('a');
    dns.publishFor(cluster.objects.get('a')!);
    clock.now += 10_000;
    // 12 s + a margin of 10 % (1,200 ms), jittered later by a tenth of it at the fixture's draw.
    expect((await learned.reconcile('a'))?.requeueAfterMs).toBe(13_320);
  });

  it('checks at once on a new verify annotation and echoes it', async () => {
    apply(newSetup('a'));
    await reconciler.reconcile('a');
    const stored = cluster.objects.get('a')!;
    stored.metadata.annotations = { [VERIFY_ANNOTATION]: 'now-1' };
    cluster.put(stored);
    await reconciler.reconcile('a');
    // A requested check reads back the tenant and association too (the drift step).
    expect(ses.calls.slice(-3)).toEqual(['GetTenant', 'GetEmailIdentity', 'ListResourceTenants']);
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

describe('one status patch per reconcile', () => {
  type Fixture = ReturnType<typeof reconcilerFixture>;
  const created = async (f: Fixture, name = 'a') => {
    f.apply(newSetup(name));
    await f.reconciler.reconcile(name);
  };
  const annotate = (f: Fixture, name: string, value: string) => {
    const stored = f.cluster.objects.get(name)!;
    stored.metadata.annotations = { [VERIFY_ANNOTATION]: value };
    f.cluster.put(stored);
  };
  // Each path: the state before the reconcile, then whether that reconcile fails. A setup SES has not
  // seen and that names no region has its region pinned in the finalizer's write, not a status write.
  const paths: [string, (f: Fixture) => Promise<void>, boolean][] = [
    ['a new setup', async (f) => f.apply(newSetup('a')), false],
    ['a no-op', async (f) => created(f), false],
    ['a verify request', async (f) => (await created(f), annotate(f, 'a', 'v1')), false],
    ['a claim conflict', async (f) => (await created(f, 'first'), f.apply(newSetup('a', { tenantName: 'first_t' }, '2026-11-28T11:00:00Z'))), false],
    ['a tenant not owned', async (f) => (await f.ses.createTenant('eu-west-1', 'a_t', {}), f.apply(newSetup('a'))), false],
    ['an invalid spec', async (f) => f.apply(newSetup('a', { tenantName: 'bad name' })), false],
    [
      'an SES error',
      async (f) => (f.ses.failNext.set('CreateEmailIdentity', new SesError('Other', 'CreateEmailIdentity', 'boom')), f.apply(newSetup('a'))),
      true,
    ],
    ['an identity gone from SES', async (f) => (await created(f), f.ses.identities.clear(), annotate(f, 'a', 'v1')), false],
    [
      'a region mismatch',
      async (f) => {
        await created(f);
        f.cluster.objects.get('a')!.spec.region = 'us-east-1';
      },
      false,
    ],
    ['a blocked deletion', async (f) => (await created(f), f.referrers.set('x', 'EmailUseCase x/y', 'a'), f.cluster.markDeleted('a')), false],
    [
      'a failed teardown',
      async (f) => (await created(f), f.ses.failNext.set('DeleteTenant', new SesError('Other', 'DeleteTenant', 'boom')), f.cluster.markDeleted('a')),
      true,
    ],
  ];
  it.each(paths)('ends in exactly one patchStatus call for %s', async (_name, arrange, fails) => {
    const f = reconcilerFixture();
    await arrange(f);
    const before = f.cluster.statusPatchCalls;
    const reconciled = f.reconciler.reconcile('a');
    if (fails) await expect(reconciled).rejects.toThrow('boom');
    else await reconciled;
    expect(f.cluster.statusPatchCalls - before).toBe(1);
  });

  it('pins the region of a setup that already carries the finalizer (an older operator) by a status write of its own first', async () => {
    const f = reconcilerFixture();
    const setup = newSetup('a');
    setup.metadata.finalizers = [FINALIZER];
    f.apply(setup);
    const before = f.cluster.statusPatchCalls;
    await f.reconciler.reconcile('a');
    expect(f.cluster.statusPatchCalls - before).toBe(2);
    expect(f.cluster.objects.get('a')!.status?.region).toBeDefined();
  });

  it('writes no status once the finalizer is released or the object is gone', async () => {
    const f = reconcilerFixture();
    await created(f);
    f.cluster.markDeleted('a');
    const before = f.cluster.statusPatchCalls;
    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.has('a')).toBe(false);
    await f.reconciler.reconcile('a');
    expect(f.cluster.statusPatchCalls).toBe(before);
  });
});

describe('a reconcile the controller gives up on (shutdown)', () => {
  it('starts no further step once its signal is aborted, and still records what was created', async () => {
    const f = reconcilerFixture();
    const abort = new AbortController();
    // SES answers the tenant's creation while the controller aborts the reconcile.
    const createTenant = f.ses.createTenant.bind(f.ses);
    f.ses.createTenant = async (...args) => {
      const tenant = await createTenant(...args);
      abort.abort(new Error('shutting down'));
      return tenant;
    };
    f.apply(newSetup('a'));
    await expect(f.reconciler.reconcile('a', { signal: abort.signal })).rejects.toThrow('shutting down');
    expect(f.ses.calls).toEqual(['CreateTenant']);
    expect(f.cluster.objects.get('a')!.status?.tenant?.name).toBe('a_t');

    await f.reconciler.reconcile('a');
    expect(f.ses.calls).toEqual(['CreateTenant', 'CreateEmailIdentity', 'CreateTenantResourceAssociation']);
  });
});

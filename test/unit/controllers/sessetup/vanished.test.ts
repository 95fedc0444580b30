import { describe, expect, it } from 'vitest';
import { condition, newSetup, reconcilerFixture } from './fixture.ts';
import { MemoryDnsEndpoints } from './memory-dns-endpoints.ts';

/** Bugs the fault suite (test/faults) found against the real stack, pinned down with in-memory doubles. */

describe('a DNS check whose status write fails', () => {
  // kube-apiserver restarts: the write failed (503 while it started), yet the check was booked as
  // done, so the retry found nothing due and the stale "not verified" status stayed for an hour.
  it('runs again on the retry instead of waiting for the next scheduled check', async () => {
    const h = reconcilerFixture();
    h.apply(newSetup('a'));
    await h.reconciler.reconcile('a');
    expect(h.cluster.objects.get('a')!.status?.dnsVerified).toBe(false);
    // The customer publishes every record and SES verifies DKIM; the next check finds all five...
    for (const record of h.cluster.objects.get('a')!.status!.dnsRecords!) h.dns.records.set(`${record.type} ${record.name}`, [record.value]);
    for (const identity of h.ses.identities.values()) identity.dkimStatus = 'SUCCESS';
    h.clock.now += 60_000;
    h.cluster.failWrites = Object.assign(new Error('storage is (re)initializing'), { code: 503 }); // ...but the API server cannot take the status write.
    await expect(h.reconciler.reconcile('a')).rejects.toThrow('storage is (re)initializing');
    expect(h.cluster.objects.get('a')!.status?.dnsVerified).toBe(false);

    h.cluster.failWrites = undefined;
    h.clock.now += 100; // the controller's rate-limited retry, moments later
    await h.reconciler.reconcile('a');
    expect(h.cluster.objects.get('a')!.status?.dnsVerified).toBe(true);
    expect(condition(h.cluster.objects.get('a'), 'Ready')?.status).toBe('True');
  });
});

describe('two setups created in the same second for one tenantName', () => {
  // creationTimestamp has one-second resolution, ties go by name: "z", reconciled alone first,
  // created the tenant; then "a" appeared and won the tie. "z" turned TenantNameConflict and "a"
  // TenantNotOwned (the tenant carries z's UID): neither could ever proceed.
  it('leave the claim with the one that already created the tenant; the other reports the conflict', async () => {
    const h = reconcilerFixture();
    const second = '2026-11-28T10:00:00Z';
    h.apply(newSetup('z', { tenantName: 'shared' }, second));
    await h.reconciler.reconcile('z');
    h.apply(h.cluster.objects.get('z')!); // the informer delivers z's status write
    expect(h.cluster.objects.get('z')!.status?.tenant?.name).toBe('shared');

    h.apply(newSetup('a', { tenantName: 'shared' }, second));
    const callsBefore = h.ses.calls.length;
    await h.reconciler.reconcile('a');
    expect(h.ses.calls.length).toBe(callsBefore); // touches nothing in SES
    expect(condition(h.cluster.objects.get('a'), 'Ready')).toMatchObject({ status: 'False', reason: 'TenantNameConflict' });
    expect(condition(h.cluster.objects.get('a'), 'Ready')?.message).toContain('already claimed by SesSetup z');

    await h.reconciler.reconcile('z');
    expect(condition(h.cluster.objects.get('z'), 'TenantReady')?.status).toBe('True');
    expect(condition(h.cluster.objects.get('z'), 'Ready')?.reason).not.toBe('TenantNameConflict');
  });
});

describe('a SesSetup removed without its finalizer being honoured', () => {
  // kube-apiserver lets a DELETE that read the object just before the finalizer was added remove it
  // anyway (kubernetes/kubernetes#77988): the watch shows ADDED, MODIFIED (finalizer), DELETED, never
  // a deletionTimestamp. The reconcile in flight created tenant, identity and association: leaked.
  it('has its SES resources torn down on the next reconcile of its name', async () => {
    const h = reconcilerFixture();
    h.apply(newSetup('gone'));
    await h.reconciler.reconcile('gone');
    expect(h.ses.tenants.size).toBe(1);
    const last = structuredClone(h.cluster.objects.get('gone')!);
    expect(last.metadata.finalizers).toEqual(['ses.channels.dev/finalizer']);
    h.cluster.objects.delete('gone');
    h.reconciler.vanished(last);
    await h.reconciler.reconcile('gone');
    expect(h.ses.tenants.size).toBe(0);
    expect(h.ses.identities.size).toBe(0);
    expect(h.ses.associations.size).toBe(0);
  });

  it('has its DNSEndpoint deleted too (no garbage collector needed), but not one a new setup of the same name owns', async () => {
    const endpoints = new MemoryDnsEndpoints();
    const h = reconcilerFixture({ dnsEndpoints: endpoints });
    h.apply(newSetup('gone', { dnsPublication: 'ExternalDNS' }));
    h.apply(newSetup('other', { dnsPublication: 'ExternalDNS' }));
    await h.reconciler.reconcile('gone');
    await h.reconciler.reconcile('other');
    expect([...endpoints.objects.keys()].sort()).toEqual(['gone', 'other']);
    const last = structuredClone(h.cluster.objects.get('gone')!);
    h.cluster.objects.delete('gone');
    h.reconciler.vanished(last);
    await h.reconciler.reconcile('gone');
    expect([...endpoints.objects.keys()]).toEqual(['other']);
    expect(h.ses.tenants.size).toBe(1);

    // An older setup of the name "other" vanished; the live one (another UID) owns the DNSEndpoint: it stays.
    const stale = structuredClone(h.cluster.objects.get('other')!);
    h.cluster.objects.delete('other');
    h.reconciler.vanished({ ...stale, metadata: { ...stale.metadata, uid: 'uid-older' } });
    await h.reconciler.reconcile('other');
    expect(endpoints.objects.has('other')).toBe(true);
    expect(endpoints.calls.filter((call) => call.startsWith('delete'))).toEqual(['delete gone']);
  });

  it('leaves a normal deletion (deletionTimestamp set, finalizer handled) alone, and only tags deletionPolicy Retain as retained', async () => {
    const h = reconcilerFixture();
    h.apply(newSetup('kept', { deletionPolicy: 'Retain' }));
    h.apply(newSetup('normal'));
    await h.reconciler.reconcile('kept');
    await h.reconciler.reconcile('normal');
    const kept = structuredClone(h.cluster.objects.get('kept')!);
    const normal = structuredClone(h.cluster.objects.get('normal')!);
    normal.metadata.deletionTimestamp = '2026-11-28T12:00:00Z';
    h.cluster.objects.delete('kept');
    h.cluster.objects.delete('normal');
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

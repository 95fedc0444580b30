import { beforeEach, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../../../src/api/group.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { ApiError } from '../../../../src/runtime/kube-http.ts';
import { PUBLICATION_RETRY_MS } from '../../../../src/controllers/sessetup/steps/publish.ts';
import { PUBLISHER_WAIT_MS } from '../../../../src/controllers/sessetup/recheck-schedule.ts';
import { condition, fastPaceSchedule, newSetup, reconcilerFixture } from './fixture.ts';
import { MemoryDnsEndpoints } from './memory-dns-endpoints.ts';

describe('publish step (dnsPublication)', () => {
  let endpoints: MemoryDnsEndpoints;
  let fixture: ReturnType<typeof reconcilerFixture>;
  const stored = (name = 'a') => fixture.cluster.objects.get(name)!;

  beforeEach(() => {
    endpoints = new MemoryDnsEndpoints();
    fixture = reconcilerFixture({ dnsEndpoints: endpoints });
  });

  it('ExternalDNS: creates one DNSEndpoint with every record, flags each record published, and says DnsPublished', async () => {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    await fixture.reconciler.reconcile('a');
    const endpoint = endpoints.objects.get('a')!;
    expect(endpoint.metadata.namespace).toBe('ses-operator');
    expect(endpoint.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'ses-operator', 'ses.channels.dev/sessetup': 'a' });
    expect(endpoint.metadata.ownerReferences).toEqual([
      { apiVersion: 'ses.channels.dev/v1alpha1', kind: 'SesSetup', name: 'a', uid: 'uid-a', controller: true },
    ]);
    const records = stored().status!.dnsRecords!;
    expect(endpoint.spec!.endpoints!.map((e) => `${e.recordType} ${e.dnsName} ${e.targets.join(',')}`)).toEqual(
      records.map((r) => `${r.type} ${r.name} ${r.type === 'TXT' ? `"${r.value}"` : r.value}`),
    );
    expect(records.every((r) => r.published === true && r.verified === false)).toBe(true);
    expect(condition(stored(), 'DnsPublished')).toMatchObject({ status: 'True', reason: 'Published' });
    expect(condition(stored(), 'Ready')?.status).toBe('False');
    expect(fixture.events.map((e) => e.reason)).toContain('Published');
  });

  it('steady state: the cached DNSEndpoint matches, so no DNSEndpoint write and no status write', async () => {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    await fixture.reconciler.reconcile('a');
    const [calls, writes] = [endpoints.calls.length, fixture.cluster.writes];
    await fixture.reconciler.reconcile('a');
    expect(endpoints.calls.length).toBe(calls);
    expect(fixture.cluster.writes).toBe(writes);
  });

  /** A published setup that SES has verified: the steady state of the scale benchmark's ExternalDNS share. */
  async function verifiedPublished() {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    await fixture.reconciler.reconcile('a');
    fixture.dns.publishFor(stored());
    Object.assign(fixture.ses.identities.get('a.example.test')!, { dkimStatus: 'SUCCESS', verificationStatus: 'SUCCESS' });
    fixture.clock.now += 60_000;
    await fixture.reconciler.reconcile('a');
    expect(condition(stored(), 'Ready')?.status).toBe('True');
    expect(stored().status!.dnsRecords!.every((r) => r.published === true && r.verified)).toBe(true);
  }

  it('steady state: a slow re-check with the same result writes neither the DNSEndpoint nor the status', async () => {
    await verifiedPublished();
    const [calls, writes, before] = [endpoints.calls.length, fixture.cluster.writes, structuredClone(stored().status)];
    fixture.clock.now += 3_600_000;
    fixture.ses.calls.length = 0;
    await fixture.reconciler.reconcile('a');
    expect(fixture.ses.calls).toEqual(['GetTenant', 'GetEmailIdentity', 'ListResourceTenants']);
    expect(endpoints.calls.length).toBe(calls);
    expect(fixture.cluster.writes).toBe(writes);
    expect(stored().status).toEqual(before);
  });

  it('a restart before the DNSEndpoint watch has listed keeps what status says (no write, Ready stays), and looks again within a second', async () => {
    await verifiedPublished();
    const [writes, before] = [fixture.cluster.writes, structuredClone(stored().status)];
    endpoints.listProblem = { reason: 'DnsEndpointsUnavailable', message: 'listing DNSEndpoints', transient: true };
    const restarted = fixture.reconcilerWith();
    const result = await restarted.reconcile('a');
    expect(result?.requeueAfterMs).toBe(1_000);
    expect(fixture.cluster.writes).toBe(writes);
    expect(stored().status).toEqual(before);

    endpoints.listProblem = undefined; // listed
    await restarted.reconcile('a');
    expect(fixture.cluster.writes).toBe(writes);
    expect(endpoints.calls.filter((call) => !call.startsWith('create'))).toEqual([]);
  });

  it('updates the DNSEndpoint when a record changes (DMARC policy), and recreates one deleted by hand', async () => {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    await fixture.reconciler.reconcile('a');
    fixture.apply({ ...stored(), spec: { ...stored().spec, dmarc: { policy: 'reject' } }, metadata: { ...stored().metadata, generation: 2 } });
    await fixture.reconciler.reconcile('a');
    const txt = endpoints.objects.get('a')!.spec!.endpoints!.find((e) => e.recordType === 'TXT')!;
    expect(txt.targets).toEqual(['"v=DMARC1; p=reject;"']);
    expect(endpoints.objects.get('a')!.metadata.generation).toBe(2);

    endpoints.objects.delete('a');
    await fixture.reconciler.reconcile('a');
    expect(endpoints.calls.at(-1)).toBe('create a');
    expect(endpoints.objects.get('a')!.spec!.endpoints).toHaveLength(5);
  });

  it('CRD missing: DnsPublished False with the reason, records unpublished, Ready says why, and a calm requeue', async () => {
    endpoints.listProblem = { reason: 'DnsEndpointCrdMissing', message: 'the DNSEndpoint CRD is not installed' };
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    const result = await fixture.reconciler.reconcile('a');
    expect(condition(stored(), 'DnsPublished')).toMatchObject({ status: 'False', reason: 'DnsEndpointCrdMissing' });
    expect(condition(stored(), 'Ready')).toMatchObject({ status: 'False', reason: 'DnsEndpointCrdMissing' });
    expect(stored().status!.dnsRecords!.every((r) => r.published === false)).toBe(true);
    expect(result?.requeueAfterMs).toBeLessThanOrEqual(PUBLICATION_RETRY_MS);
    expect(result?.requeueAfterMs).toBeGreaterThan(0);
    expect(endpoints.calls).toEqual([]);

    endpoints.listProblem = undefined; // installed
    fixture.clock.now += PUBLICATION_RETRY_MS;
    await fixture.reconciler.reconcile('a');
    expect(condition(stored(), 'DnsPublished')?.status).toBe('True');
  });

  it('the DNSEndpoint watch has not listed yet: looked at again within a second, not after the long retry', async () => {
    endpoints.listProblem = { reason: 'DnsEndpointsUnavailable', message: 'listing DNSEndpoints', transient: true };
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    const result = await fixture.reconciler.reconcile('a');
    expect(result?.requeueAfterMs).toBe(1_000);
    expect(condition(stored(), 'DnsPublished')?.reason).toBe('DnsEndpointsUnavailable');
  });

  it("a DNSEndpoint of that name that is not the operator's (not in its labelled cache): DnsEndpointConflict, no error, nothing overwritten", async () => {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    const foreign = {
      apiVersion: 'externaldns.k8s.io/v1alpha1',
      kind: 'DNSEndpoint',
      metadata: { name: 'a', namespace: 'ses-operator' },
      spec: { endpoints: [] },
    };
    endpoints.objects.set('a', foreign);
    endpoints.hidden.add('a');
    const result = await fixture.reconciler.reconcile('a');
    expect(condition(stored(), 'DnsPublished')).toMatchObject({ status: 'False', reason: 'DnsEndpointConflict' });
    expect(condition(stored(), 'DnsPublished')?.message).toMatch(/without the label app\.kubernetes\.io\/managed-by=ses-operator/);
    expect(result?.requeueAfterMs).toBe(PUBLICATION_RETRY_MS);
    expect(endpoints.objects.get('a')).toEqual(foreign);
  });

  it('RBAC forbids the write: DnsPublished False, DnsEndpointForbidden, no error thrown (no hot loop)', async () => {
    endpoints.failWrites = new ApiError(403, 'Forbidden', 'dnsendpoints.externaldns.k8s.io is forbidden');
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    const result = await fixture.reconciler.reconcile('a');
    expect(condition(stored(), 'DnsPublished')).toMatchObject({ status: 'False', reason: 'DnsEndpointForbidden' });
    expect(condition(stored(), 'DnsPublished')?.message).toMatch(/grant .*create, update.*dnsendpoints\.externaldns\.k8s\.io/);
    expect(result?.requeueAfterMs).toBe(PUBLICATION_RETRY_MS);
  });

  it('no namespace known: DnsPublished False, DnsEndpointNamespaceUnset; a Manual setup beside it is unaffected', async () => {
    fixture = reconcilerFixture();
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    fixture.apply(newSetup('b'));
    await fixture.reconciler.reconcile('a');
    await fixture.reconciler.reconcile('b');
    expect(condition(stored('a'), 'DnsPublished')).toMatchObject({ status: 'False', reason: 'DnsEndpointNamespaceUnset' });
    expect(condition(stored('a'), 'DnsPublished')?.message).toMatch(/--dns-endpoint-namespace/);
    expect(condition(stored('b'), 'DnsPublished')).toBeUndefined();
    expect(stored('b').status!.dnsRecords!.every((r) => r.published === undefined)).toBe(true);
  });

  it('Manual after ExternalDNS: the DNSEndpoint is deleted, the flags and the condition go', async () => {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    await fixture.reconciler.reconcile('a');
    fixture.apply({ ...stored(), spec: { ...stored().spec, dnsPublication: 'Manual' }, metadata: { ...stored().metadata, generation: 2 } });
    await fixture.reconciler.reconcile('a');
    expect(endpoints.objects.has('a')).toBe(false);
    expect(condition(stored(), 'DnsPublished')).toBeUndefined();
    expect(stored().status!.dnsRecords!.some((r) => 'published' in r)).toBe(false);
  });

  it('deletion deletes the DNSEndpoint explicitly before the finalizer goes', async () => {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    await fixture.reconciler.reconcile('a');
    fixture.cluster.markDeleted('a');
    await fixture.reconciler.reconcile('a');
    expect(endpoints.calls.at(-1)).toBe('delete a');
    expect(endpoints.objects.has('a')).toBe(false);
    expect(fixture.cluster.objects.has('a')).toBe(false);
    expect(fixture.events.map((e) => e.reason)).toContain('Unpublished');
  });

  it("deletion leaves a DNSEndpoint that is not this setup's (someone else's of the same name, or one owned by an earlier setup's UID)", async () => {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    await fixture.reconciler.reconcile('a');
    endpoints.objects.get('a')!.metadata.ownerReferences![0]!.uid = 'uid-of-an-older-a';
    fixture.cluster.markDeleted('a');
    await fixture.reconciler.reconcile('a');
    expect(fixture.cluster.objects.has('a')).toBe(false);
    expect(endpoints.objects.has('a')).toBe(true);
    expect(endpoints.calls.filter((call) => call.startsWith('delete'))).toEqual([]);
  });

  it('deletion goes on when RBAC forbids the DNSEndpoint delete (the garbage collector has the owner reference)', async () => {
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    await fixture.reconciler.reconcile('a');
    endpoints.failWrites = new ApiError(403, 'Forbidden', 'forbidden');
    fixture.cluster.markDeleted('a');
    await fixture.reconciler.reconcile('a');
    const left: SesSetup | undefined = fixture.cluster.objects.get('a');
    expect(left?.metadata.finalizers?.includes(FINALIZER) ?? false).toBe(false);
  });

  it('records not live yet: no fast re-checks until external-dns has read the DNSEndpoint, then at the fast pace again', async () => {
    const schedule = fastPaceSchedule();
    fixture = reconcilerFixture({ dnsEndpoints: endpoints, schedule });
    fixture.apply(newSetup('a', { dnsPublication: 'ExternalDNS' }));
    // The first check comes before the DNSEndpoint exists: the fast pace.
    expect((await fixture.reconciler.reconcile('a'))?.requeueAfterMs).toBe(100);
    expect(endpoints.objects.get('a')?.status?.observedGeneration).toBeUndefined();

    fixture.clock.now += 100;
    const lookups = fixture.dns.lookups.length;
    expect((await fixture.reconciler.reconcile('a'))?.requeueAfterMs).toBe(PUBLISHER_WAIT_MS);
    expect(fixture.dns.lookups.length).toBeGreaterThan(lookups);
    // Woken before that (its own status write's watch event): nothing to look at yet.
    fixture.clock.now += 1_000;
    const waited = fixture.dns.lookups.length;
    expect((await fixture.reconciler.reconcile('a'))?.requeueAfterMs).toBe(PUBLISHER_WAIT_MS - 1_000);
    expect(fixture.dns.lookups.length).toBe(waited);

    // external-dns starts a sync with this generation: the watch restarts the setup's checks (manager), fast again.
    endpoints.objects.get('a')!.status = { observedGeneration: 1 };
    schedule.restart('a');
    expect((await fixture.reconciler.reconcile('a'))?.requeueAfterMs).toBe(100);
    expect(fixture.dns.lookups.length).toBeGreaterThan(waited);
    fixture.dns.publishFor(stored());
    fixture.clock.now += 100;
    await fixture.reconciler.reconcile('a');
    // Published now: MX and DMARC verified by the lookups alone (DKIM waits for SES's check).
    expect(
      stored()
        .status!.dnsRecords!.filter((r) => r.type !== 'CNAME')
        .every((r) => r.verified),
    ).toBe(true);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { OWNER_NAME_TAG, OWNER_UID_TAG, RETAINED_TAG } from '../../../../src/api/group.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { markRetained } from '../../../../src/controllers/orphans/retained.ts';
import { OrphanSweeper, type SweptKind } from '../../../../src/controllers/orphans/sweeper.ts';
import { renderDnsEndpoint } from '../../../../src/controllers/sessetup/dns-endpoint.ts';
import { identityArn } from '../../../../src/ses/gateway.ts';
import { ApiError } from '../../../../src/runtime/kube-http.ts';
import { MemorySes } from '../../../support/memory-ses.ts';
import { MemoryDnsEndpoints } from '../sessetup/memory-dns-endpoints.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };
const GRACE = 10 * 60_000;

function setup(name: string, uid: string, status?: SesSetup['status']): SesSetup {
  return {
    apiVersion: 'ses.channels.dev/v1alpha1',
    kind: 'SesSetup',
    metadata: { name, uid },
    spec: { tenantName: `${name}_t`, domainIdentity: `${name}.example.test`, deletionPolicy: 'Delete', adoptionPolicy: 'Never', dnsPublication: 'Manual' },
    ...(status ? { status } : {}),
  };
}

/** What a SesSetup leaves in SES: tenant + identity tagged with its UID, associated. */
async function created(ses: MemorySes, name: string, uid: string): Promise<void> {
  const tags = { [OWNER_UID_TAG]: uid, [OWNER_NAME_TAG]: name };
  const tenant = await ses.createTenant('eu-west-1', `${name}_t`, tags);
  await ses.createEmailIdentity('eu-west-1', `${name}.example.test`, tags);
  await ses.associate('eu-west-1', tenant.name, identityArn(tenant.arn!, `${name}.example.test`));
}

function harness(options: { intervalMs?: number; graceMs?: number; dnsEndpoints?: MemoryDnsEndpoints } = {}) {
  const ses = new MemorySes();
  const state = { now: Date.parse('2026-11-30T09:00:00Z'), synced: true, setups: [] as SesSetup[] };
  const swept: { kind: SweptKind; region: string }[] = [];
  const warnings: unknown[] = [];
  const logger = { ...silent, warn: (fields: unknown) => void warnings.push(fields), child: () => logger };
  const sweeper = new OrphanSweeper({
    ses,
    setups: () => state.setups,
    synced: () => state.synced,
    defaultRegion: 'eu-west-1',
    intervalMs: options.intervalMs ?? 3_600_000,
    graceMs: options.graceMs ?? GRACE,
    logger,
    onSwept: (kind, region) => swept.push({ kind, region }),
    now: () => state.now,
    dnsEndpoints: options.dnsEndpoints,
  });
  return { ses, state, swept, warnings, sweeper };
}

afterEach(() => vi.useRealTimers());

describe('OrphanSweeper', () => {
  it('deletes association, identity and tenant of a gone setup once it has been orphaned for the grace, and counts and logs each', async () => {
    const h = harness();
    await created(h.ses, 'gone', 'uid-gone');
    const first = await h.sweeper.sweep();
    expect(first.orphans.map((o) => `${o.kind} ${o.name}`).sort()).toEqual(['identity gone.example.test', 'tenant gone_t']);
    expect(first.deleted).toEqual([]);

    h.state.now += GRACE;
    const calls = h.ses.calls.length;
    const second = await h.sweeper.sweep();
    expect(second.deleted.map((o) => o.kind)).toEqual(['identity', 'tenant']);
    expect(h.ses.tenants.size).toBe(0);
    expect(h.ses.identities.size).toBe(0);
    expect(h.ses.associations.size).toBe(0);
    // Teardown's order, each delete right after a read that still shows the orphan's UID.
    const deletes = h.ses.calls.slice(calls).filter((call) => /^(Delete|Get)/.test(call));
    expect(deletes.slice(-5)).toEqual(['GetEmailIdentity', 'DeleteTenantResourceAssociation', 'DeleteEmailIdentity', 'GetTenant', 'DeleteTenant']);
    expect(h.swept).toEqual([
      { kind: 'identity', region: 'eu-west-1' },
      { kind: 'tenant', region: 'eu-west-1' },
    ]);
    expect(h.warnings).toEqual([
      expect.objectContaining({ kind: 'identity', name: 'gone.example.test', region: 'eu-west-1', ownerUid: 'uid-gone', ownerName: 'gone' }),
      expect.objectContaining({ kind: 'tenant', name: 'gone_t', region: 'eu-west-1', ownerUid: 'uid-gone', ownerName: 'gone' }),
    ]);
  });

  it('queues every SES call it makes as routine: lists, reads, deletions and Retain tags are scheduled upkeep', async () => {
    const h = harness();
    await created(h.ses, 'gone', 'uid-gone');
    await created(h.ses, 'keep', 'uid-keep');
    const live = setup('keep', 'uid-keep', { tenant: { name: 'keep_t', arn: h.ses.tenants.get('keep_t')!.arn }, identity: { name: 'keep.example.test' } });
    live.spec.deletionPolicy = 'Retain';
    h.state.setups = [live];
    const before = h.ses.calls.length;
    await h.sweeper.sweep();
    h.state.now += GRACE;
    expect((await h.sweeper.sweep()).deleted).toHaveLength(2);
    const calls = h.ses.calls.slice(before);
    expect(calls).toEqual(expect.arrayContaining(['ListTenants', 'GetTenant', 'GetEmailIdentity', 'DeleteEmailIdentity', 'DeleteTenant', 'TagResource']));
    expect(h.ses.callPriorities.slice(before)).toEqual(calls.map(() => 'routine'));
  });

  it('keeps an orphan younger than the grace, and one seen at only one sweep however old', async () => {
    const h = harness();
    await created(h.ses, 'young', 'uid-young');
    await h.sweeper.sweep();
    h.state.now += GRACE - 1;
    expect((await h.sweeper.sweep()).deleted).toEqual([]);
    expect(h.ses.tenants.size).toBe(1);

    // A fresh sweeper (a restart) has no memory: the first sighting never deletes.
    const restarted = harness();
    await created(restarted.ses, 'old', 'uid-old');
    restarted.state.now += 10 * GRACE;
    expect((await restarted.sweeper.sweep()).deleted).toEqual([]);
    expect(restarted.ses.identities.size).toBe(1);
  });

  it('keeps what a Retain deletion marked, and never reads it again', async () => {
    const h = harness();
    await created(h.ses, 'kept', 'uid-kept');
    const marked = await markRetained(h.ses, { region: 'eu-west-1', tenantName: 'kept_t', domain: 'kept.example.test', ownerUid: 'uid-kept' });
    expect(marked).toEqual({ tenant: 'marked', identity: 'marked' });
    expect(h.ses.tenants.get('kept_t')!.tags).toMatchObject({ [RETAINED_TAG]: 'true', [OWNER_UID_TAG]: 'uid-kept' });

    expect((await h.sweeper.sweep()).orphans).toEqual([]);
    h.state.now += GRACE;
    const calls = h.ses.calls.length;
    expect((await h.sweeper.sweep()).deleted).toEqual([]);
    expect(h.ses.calls.slice(calls)).toEqual(['ListTenants', 'ListEmailIdentities']);
    expect(h.ses.tenants.size).toBe(1);
    expect(h.ses.identities.size).toBe(1);
  });

  it('tags a live Retain setup ahead of its deletion, so stripping its finalizer does not get it swept', async () => {
    const h = harness();
    await created(h.ses, 'keep', 'uid-keep');
    const live = {
      ...setup('keep', 'uid-keep', { tenant: { name: 'keep_t', arn: h.ses.tenants.get('keep_t')!.arn }, identity: { name: 'keep.example.test' } }),
    };
    live.spec.deletionPolicy = 'Retain';
    h.state.setups = [live];
    expect((await h.sweeper.sweep()).markedRetained).toBe(1);
    expect(h.ses.tenants.get('keep_t')!.tags[RETAINED_TAG]).toBe('true');
    expect(h.ses.identities.get('keep.example.test')!.tags[RETAINED_TAG]).toBe('true');
    // Once per process: the next sweep costs no call for it.
    const calls = h.ses.calls.length;
    expect((await h.sweeper.sweep()).markedRetained).toBe(0);
    expect(h.ses.calls.slice(calls)).toEqual(['ListTenants', 'ListEmailIdentities']);

    h.state.setups = []; // finalizer stripped, setup gone, no teardown
    await h.sweeper.sweep();
    h.state.now += GRACE;
    expect((await h.sweeper.sweep()).deleted).toEqual([]);
    expect(h.ses.tenants.size).toBe(1);
    expect(h.ses.identities.size).toBe(1);
  });

  it('never touches foreign resources: untagged, or tagged by a live setup', async () => {
    const h = harness();
    await h.ses.createTenant('eu-west-1', 'foreign_t', {});
    await h.ses.createEmailIdentity('eu-west-1', 'foreign.example.test', { team: 'billing' });
    await created(h.ses, 'alive', 'uid-alive');
    h.state.setups = [setup('alive', 'uid-alive')];
    await h.sweeper.sweep();
    h.state.now += GRACE;
    const report = await h.sweeper.sweep();
    expect(report.orphans).toEqual([]);
    expect([...h.ses.tenants.keys()].sort()).toEqual(['alive_t', 'foreign_t']);
    expect(h.ses.identities.size).toBe(2);
    expect(h.ses.associations.size).toBe(1);
    expect(h.ses.calls).not.toContain('TagResource');
  });

  it('skips the Get for resources a live setup records in status, and pages through long lists', async () => {
    const h = harness();
    for (const n of [1, 2, 3, 4, 5]) await created(h.ses, `s${n}`, `uid-s${n}`);
    h.state.setups = [1, 2, 3, 4, 5].map((n) =>
      setup(`s${n}`, `uid-s${n}`, { tenant: { name: `s${n}_t`, arn: h.ses.tenants.get(`s${n}_t`)!.arn }, identity: { name: `s${n}.example.test` } }),
    );
    const calls = h.ses.calls.length;
    const report = await h.sweeper.sweep();
    // 5 of each at 2 per page: 3 pages each, and no Get at all.
    expect(h.ses.calls.slice(calls)).toEqual([
      'ListTenants',
      'ListTenants',
      'ListTenants',
      'ListEmailIdentities',
      'ListEmailIdentities',
      'ListEmailIdentities',
    ]);
    expect(report.calls).toBe(6);
  });

  it('does not sweep while the caches are not synced, and stops deleting if they stop being synced', async () => {
    const h = harness();
    await created(h.ses, 'gone', 'uid-gone');
    h.state.synced = false;
    expect(await h.sweeper.sweep()).toMatchObject({ skipped: 'not-synced', orphans: [] });
    expect(h.ses.calls.filter((call) => call.startsWith('List'))).toEqual([]);

    h.state.synced = true;
    await h.sweeper.sweep();
    h.state.now += GRACE;
    // The cache loses sync during the sweep (a relist): the deletes that follow are not made.
    const getTenant = h.ses.getTenant.bind(h.ses);
    h.ses.getTenant = async (...args) => {
      h.state.synced = false;
      return getTenant(...args);
    };
    expect((await h.sweeper.sweep()).deleted).toEqual([]);
    expect(h.ses.tenants.size).toBe(1);
    expect(h.ses.identities.size).toBe(1);
  });

  it('keeps an orphan whose setup shows up again in the cache, or that was adopted meanwhile', async () => {
    const h = harness();
    await created(h.ses, 'back', 'uid-back');
    await created(h.ses, 'adopted', 'uid-adopted');
    await h.sweeper.sweep();
    h.state.now += GRACE;
    h.state.setups = [setup('back', 'uid-back')];
    // Another setup takes the identity over (adoptionPolicy Adopt) between the sweeps.
    h.ses.identities.get('adopted.example.test')!.tags[OWNER_UID_TAG] = 'uid-new';
    h.state.setups.push(setup('new', 'uid-new'));
    const report = await h.sweeper.sweep();
    expect(report.deleted.map((o) => `${o.kind} ${o.name}`)).toEqual(['tenant adopted_t']);
    expect(h.ses.identities.has('adopted.example.test')).toBe(true);
    expect(h.ses.tenants.has('back_t')).toBe(true);
    expect(h.ses.identities.has('back.example.test')).toBe(true);
  });

  it('sweeps every region in use: status.region, spec.region, the default, and regions whose last setup went', async () => {
    const h = harness();
    const regions: string[] = [];
    const list = h.ses.listTenants.bind(h.ses);
    h.ses.listTenants = async (region, token) => (regions.push(region), list(region, token));
    h.state.setups = [
      setup('a', 'uid-a', { region: 'ap-south-1' } as SesSetup['status']),
      { ...setup('b', 'uid-b'), spec: { ...setup('b', 'uid-b').spec, region: 'us-west-2' } },
    ];
    await h.sweeper.sweep();
    expect(regions.sort()).toEqual(['ap-south-1', 'eu-west-1', 'us-west-2']);
    h.state.setups = [];
    regions.length = 0;
    await h.sweeper.sweep();
    expect(regions.sort()).toEqual(['ap-south-1', 'eu-west-1', 'us-west-2']);
  });

  it('runs one interval after the start and then every interval, sooner while an orphan waits out its grace, and not at all with interval 0', async () => {
    vi.useFakeTimers();
    const off = harness({ intervalMs: 0 });
    await created(off.ses, 'gone', 'uid-gone');
    expect(off.sweeper.enabled).toBe(false);
    off.sweeper.start();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(off.ses.calls.filter((call) => call.startsWith('List'))).toEqual([]);
    expect(off.ses.tenants.size).toBe(1);

    const on = harness({ intervalMs: 3_600_000, graceMs: 60_000 });
    await created(on.ses, 'gone', 'uid-gone');
    on.sweeper.start();
    await vi.advanceTimersByTimeAsync(3_600_000 - 1);
    expect(on.ses.calls.filter((call) => call === 'ListTenants')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(on.ses.calls.filter((call) => call === 'ListTenants')).toHaveLength(1);
    on.state.now += 60_000;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(on.ses.tenants.size).toBe(0);
    expect(on.ses.identities.size).toBe(0);
    await vi.advanceTimersByTimeAsync(3_600_000 - 1);
    expect(on.ses.calls.filter((call) => call === 'ListTenants')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(on.ses.calls.filter((call) => call === 'ListTenants')).toHaveLength(3);
    await on.sweeper.stop();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(on.ses.calls.filter((call) => call === 'ListTenants')).toHaveLength(3);
  });
});

describe('OrphanSweeper and DNSEndpoints', () => {
  /** What the publish step writes for a setup: labelled, owned by its UID. */
  async function published(endpoints: MemoryDnsEndpoints, name: string, uid: string): Promise<void> {
    const records = [{ name: `${name}.example.test`, type: 'MX', value: '10 feedback-smtp.eu-west-1.amazonses.com' }];
    await endpoints.create(renderDnsEndpoint({ ...setup(name, uid), metadata: { name, uid } }, endpoints.namespace, records));
  }

  it('deletes the DNSEndpoint of a gone setup once it has been orphaned for the grace, counts it and logs it; keeps the live and the unowned', async () => {
    const endpoints = new MemoryDnsEndpoints();
    const h = harness({ dnsEndpoints: endpoints });
    h.state.setups = [setup('live', 'uid-live')];
    await published(endpoints, 'live', 'uid-live');
    await published(endpoints, 'gone', 'uid-gone');
    await published(endpoints, 'handmade', 'uid-x');
    endpoints.objects.get('handmade')!.metadata.ownerReferences = []; // labelled, but names no SesSetup: not the sweep's to judge

    const first = await h.sweeper.sweep();
    expect(first.dnsEndpoints).toEqual({ orphans: ['gone'], deleted: [] });
    h.state.now += GRACE - 1;
    expect((await h.sweeper.sweep()).dnsEndpoints).toEqual({ orphans: ['gone'], deleted: [] });
    h.state.now += 1;
    expect((await h.sweeper.sweep()).dnsEndpoints).toEqual({ orphans: ['gone'], deleted: ['gone'] });
    expect([...endpoints.objects.keys()].sort()).toEqual(['handmade', 'live']);
    expect(h.swept).toEqual([{ kind: 'dnsendpoint', region: '' }]);
    expect(h.warnings).toEqual([
      expect.objectContaining({ kind: 'dnsendpoint', name: 'gone', namespace: 'ses-operator', ownerUid: 'uid-gone', ownerName: 'gone' }),
    ]);
    expect(h.ses.calls.filter((call) => !call.startsWith('List'))).toEqual([]); // no SES call for DNSEndpoints
  });

  it('keeps one taken over by a new setup of the same name, one changed since it was read, and all while the caches are not synced', async () => {
    const endpoints = new MemoryDnsEndpoints();
    const h = harness({ dnsEndpoints: endpoints });
    for (const name of ['adopted', 'changed', 'unsynced']) await published(endpoints, name, `uid-${name}`);
    await h.sweeper.sweep();
    h.state.now += GRACE;
    // A new "adopted" setup shows up; the publish step points the DNSEndpoint at it.
    h.state.setups = [setup('adopted', 'uid-adopted-2')];
    endpoints.objects.get('adopted')!.metadata.ownerReferences![0]!.uid = 'uid-adopted-2';
    // "changed" is written between the sweep's read of the cache and its delete.
    const original = endpoints.delete.bind(endpoints);
    endpoints.delete = async (name, uid, resourceVersion) => {
      if (name === 'changed') endpoints.objects.get('changed')!.metadata.resourceVersion = 'newer';
      return original(name, uid, resourceVersion);
    };
    h.state.synced = false;
    expect((await h.sweeper.sweep()).skipped).toBe('not-synced');
    h.state.synced = true;
    const report = await h.sweeper.sweep();
    expect(report.dnsEndpoints).toEqual({ orphans: ['changed', 'unsynced'], deleted: ['unsynced'] });
    expect([...endpoints.objects.keys()].sort()).toEqual(['adopted', 'changed']);
  });

  it('looks at no DNSEndpoint while they are not watched (no setup asked for publication in this process)', async () => {
    const endpoints = new MemoryDnsEndpoints();
    const h = harness({ dnsEndpoints: endpoints });
    await published(endpoints, 'gone', 'uid-gone');
    endpoints.unwatched = true;
    await h.sweeper.sweep();
    h.state.now += GRACE;
    const report = await h.sweeper.sweep();
    expect(report.dnsEndpoints).toBeUndefined();
    expect(endpoints.objects.has('gone')).toBe(true);
    expect(endpoints.calls.filter((call) => call.startsWith('delete'))).toEqual([]);
  });

  it('sweeps DNSEndpoints before SES, so a denied SES list does not keep them', async () => {
    const endpoints = new MemoryDnsEndpoints();
    const h = harness({ dnsEndpoints: endpoints });
    await published(endpoints, 'gone', 'uid-gone');
    h.ses.listTenants = () => Promise.reject(new Error('AccessDeniedException: not authorized to perform ses:ListTenants'));
    await expect(h.sweeper.sweep()).rejects.toThrow('ses:ListTenants');
    h.state.now += GRACE;
    await expect(h.sweeper.sweep()).rejects.toThrow('ses:ListTenants');
    expect(endpoints.objects.has('gone')).toBe(false);
  });

  it('goes on to SES when RBAC forbids the DNSEndpoint delete, logs it, and tries again at the next sweep', async () => {
    const endpoints = new MemoryDnsEndpoints();
    const h = harness({ dnsEndpoints: endpoints });
    await published(endpoints, 'gone', 'uid-gone');
    await created(h.ses, 'gone', 'uid-gone');
    await h.sweeper.sweep();
    h.state.now += GRACE;
    endpoints.failWrites = new ApiError(403, 'Forbidden', 'dnsendpoints.externaldns.k8s.io "gone" is forbidden');
    const report = await h.sweeper.sweep();
    expect(report.dnsEndpoints).toEqual({ orphans: ['gone'], deleted: [] });
    expect(report.deleted.map((o) => o.kind)).toEqual(['identity', 'tenant']);
    expect(h.warnings).toContainEqual(expect.objectContaining({ name: 'gone', namespace: 'ses-operator' }));
    endpoints.failWrites = undefined;
    expect((await h.sweeper.sweep()).dnsEndpoints?.deleted).toEqual(['gone']);
  });

  it('comes back after the grace while a DNSEndpoint waits it out', async () => {
    vi.useFakeTimers();
    const endpoints = new MemoryDnsEndpoints();
    const h = harness({ intervalMs: 3_600_000, graceMs: 60_000, dnsEndpoints: endpoints });
    await published(endpoints, 'gone', 'uid-gone');
    h.sweeper.start();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(endpoints.objects.has('gone')).toBe(true);
    h.state.now += 60_000;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(endpoints.objects.has('gone')).toBe(false);
    await h.sweeper.stop();
  });
});

describe('markRetained', () => {
  it('tags only resources carrying the setup UID, and only once', async () => {
    const ses = new MemorySes();
    await created(ses, 'mine', 'uid-mine');
    await ses.createEmailIdentity('eu-west-1', 'theirs.example.test', { [OWNER_UID_TAG]: 'uid-other' });
    const target = { region: 'eu-west-1', tenantName: 'mine_t', ownerUid: 'uid-mine' };
    expect(await markRetained(ses, { ...target, domain: 'theirs.example.test' })).toEqual({ tenant: 'marked', identity: 'not-owned' });
    expect(ses.identities.get('theirs.example.test')!.tags[RETAINED_TAG]).toBeUndefined();
    expect(await markRetained(ses, { ...target, domain: 'mine.example.test' })).toEqual({ tenant: 'already-marked', identity: 'marked' });
    expect(await markRetained(ses, { ...target, tenantName: 'none_t', domain: 'none.example.test' })).toEqual({ tenant: 'absent', identity: 'absent' });
  });
});

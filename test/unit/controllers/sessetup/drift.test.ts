import { describe, expect, it } from 'vitest';
import { OWNER_NAME_TAG, OWNER_UID_TAG, VERIFY_ANNOTATION } from '../../../../src/api/group.ts';
import { condition, newSetup, reconcileToVerified, reconcilerFixture } from './fixture.ts';

const HOUR = 3_600_000;

/** A setup created, published and verified by SES: the steady state drift is read against. */
async function verifiedSetup() {
  const f = reconcilerFixture();
  await reconcileToVerified(f);
  expect(condition(f.cluster.objects.get('a'), 'Ready')?.status).toBe('True');
  const stored = () => f.cluster.objects.get('a')!;
  /** The next slow re-check: an hour later (no jitter in the fixture). */
  const slowCheck = async () => {
    f.clock.now += HOUR;
    f.ses.calls.length = 0;
    return f.reconciler.reconcile('a');
  };
  return { ...f, stored, slowCheck };
}

describe('drift: what the operator owns in SES, read back on the slow re-check', () => {
  it('costs GetTenant, GetEmailIdentity and ListResourceTenants per slow check, nothing between checks, and writes nothing when unchanged', async () => {
    const f = await verifiedSetup();
    expect(f.ses.calls).not.toContain('GetTenant');
    f.ses.calls.length = 0;
    const writes = f.cluster.writes;
    f.clock.now += 30 * 60_000;
    await f.reconciler.reconcile('a');
    expect(f.ses.calls).toEqual([]);
    f.clock.now -= 30 * 60_000;
    const result = await f.slowCheck();
    expect(f.ses.calls).toEqual(['GetTenant', 'GetEmailIdentity', 'ListResourceTenants']);
    expect(f.cluster.writes).toBe(writes);
    expect(result?.requeueAfterMs).toBe(HOUR);
    expect(f.events.filter((e) => e.type === 'Warning')).toEqual([]);
  });

  it('does not read back on the fast checks of an unverified setup', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a'));
    await f.reconciler.reconcile('a');
    f.dns.publishFor(f.cluster.objects.get('a')!);
    for (let i = 0; i < 3; i++) {
      f.clock.now += 10 * 60_000;
      await f.reconciler.reconcile('a');
    }
    expect(f.ses.calls.filter((call) => call === 'GetEmailIdentity').length).toBe(3);
    expect(f.ses.calls).not.toContain('GetTenant');
    expect(f.ses.calls).not.toContain('ListResourceTenants');
  });

  it('creates a tenant deleted outside the operator again, tagged as before, with its association, and says so once', async () => {
    const f = await verifiedSetup();
    const oldArn = f.stored().status!.tenant!.arn;
    f.ses.deleteTenantOutOfBand('a_t');
    f.ses.tenants.clear();
    await f.slowCheck();
    expect(f.ses.calls).toEqual(['GetTenant', 'GetEmailIdentity', 'CreateTenant', 'CreateTenantResourceAssociation']);
    expect(f.ses.tenants.get('a_t')?.tags).toEqual({ [OWNER_UID_TAG]: 'uid-a', [OWNER_NAME_TAG]: 'a' });
    expect(f.ses.associations.has(`a_t|${f.stored().status!.identity!.arn}`)).toBe(true);
    expect(f.stored().status!.tenant!.arn).toBe(oldArn);
    expect(f.events.filter((e) => e.type === 'Warning').map((e) => e.reason)).toEqual(['TenantRecreated']);
    expect(f.events.at(-1)?.message).toMatch(/SES tenant a_t was deleted outside the operator; created it again in eu-west-1, tagged as before/);
    expect(condition(f.stored(), 'TenantReady')?.status).toBe('True');
    expect(condition(f.stored(), 'Ready')?.status).toBe('True');
  });

  it('creates an identity deleted outside the operator again, tagged and associated, and asks for its DKIM records again', async () => {
    const f = await verifiedSetup();
    f.ses.deleteIdentityOutOfBand('a.example.test');
    await f.slowCheck();
    expect(f.ses.calls).toEqual(['GetTenant', 'GetEmailIdentity', 'CreateEmailIdentity', 'CreateTenantResourceAssociation']);
    expect(f.ses.identities.get('a.example.test')?.tags[OWNER_UID_TAG]).toBe('uid-a');
    expect(f.ses.associations.size).toBe(1);
    const warnings = f.events.filter((e) => e.type === 'Warning');
    expect(warnings.map((e) => e.reason)).toEqual(['IdentityRecreated']);
    expect(warnings[0]!.message).toMatch(/deleted outside the operator; created it again .*new DKIM tokens/);
    // A new identity is PENDING in SES: not ready to send until SES verifies it again.
    expect(condition(f.stored(), 'Ready')?.status).toBe('False');
  });

  it('creates an association removed outside the operator again', async () => {
    const f = await verifiedSetup();
    f.ses.associations.clear();
    await f.slowCheck();
    expect(f.ses.calls).toEqual(['GetTenant', 'GetEmailIdentity', 'ListResourceTenants', 'CreateTenantResourceAssociation']);
    expect(f.ses.associations.size).toBe(1);
    expect(f.events.filter((e) => e.type === 'Warning').map((e) => e.reason)).toEqual(['AssociationRecreated']);
    expect(condition(f.stored(), 'Ready')?.status).toBe('True');
  });

  it('reports an untagged same-named tenant that replaced ours, and never touches it', async () => {
    const f = await verifiedSetup();
    f.ses.deleteTenantOutOfBand('a_t');
    await f.ses.createTenant('eu-west-1', 'a_t', { team: 'someone-else' });
    f.ses.calls.length = 0;
    await f.slowCheck();
    expect(f.ses.calls).toEqual(['GetTenant']);
    const tenantReady = condition(f.stored(), 'TenantReady');
    expect(tenantReady).toMatchObject({ status: 'False', reason: 'TenantNotOwned' });
    expect(tenantReady?.message).toMatch(/replaced outside the operator.*no ses-operator owner tag.*Nothing was changed/);
    expect(condition(f.stored(), 'Stalled')).toMatchObject({ status: 'True', reason: 'TenantNotOwned' });
    expect(condition(f.stored(), 'Ready')?.status).toBe('False');
    // Later reconciles ask again through the claim check and still change nothing.
    await f.reconciler.reconcile('a');
    expect(f.ses.calls.filter((call) => !['GetTenant', 'CreateTenant'].includes(call))).toEqual([]);
    expect(f.ses.tenants.get('a_t')?.tags).toEqual({ team: 'someone-else' });
    expect(condition(f.stored(), 'TenantReady')?.reason).toBe('TenantNotOwned');
    expect(f.events.filter((e) => e.reason === 'TenantNotOwned').length).toBeGreaterThanOrEqual(1);
  });

  it('reports an identity tagged by another SesSetup, and never touches it', async () => {
    const f = await verifiedSetup();
    f.ses.identities.get('a.example.test')!.tags = { [OWNER_UID_TAG]: 'uid-other', [OWNER_NAME_TAG]: 'other' };
    await f.slowCheck();
    expect(f.ses.calls).toEqual(['GetTenant', 'GetEmailIdentity']);
    expect(condition(f.stored(), 'IdentityReady')).toMatchObject({ status: 'False', reason: 'IdentityNotOwned' });
    expect(condition(f.stored(), 'IdentityReady')?.message).toMatch(/belongs to SesSetup other with UID uid-other/);
    expect(condition(f.stored(), 'Stalled')?.status).toBe('True');
    expect(f.ses.identities.get('a.example.test')?.tags[OWNER_UID_TAG]).toBe('uid-other');
  });

  it('answers a verify request that finds a replaced resource with that report', async () => {
    const f = await verifiedSetup();
    f.ses.deleteTenantOutOfBand('a_t');
    await f.ses.createTenant('eu-west-1', 'a_t', {});
    const stored = f.stored();
    stored.metadata.annotations = { [VERIFY_ANNOTATION]: 'check-1' };
    f.cluster.put(stored);
    await f.reconciler.reconcile('a');
    expect(f.stored().status?.lastHandledVerifyRequest).toBe('check-1');
    expect(condition(f.stored(), 'TenantReady')?.reason).toBe('TenantNotOwned');
  });

  it('shows a DKIM lapse on the DKIM records and drops Ready, then Ready again once SES succeeds', async () => {
    const f = await verifiedSetup();
    const identity = f.ses.identities.get('a.example.test')!;
    identity.dkimStatus = 'TEMPORARY_FAILURE';
    identity.verifiedForSending = false;
    await f.slowCheck();
    const records = f.stored().status!.dnsRecords!;
    for (const record of records.filter((r) => r.purpose === 'DKIM')) {
      expect(record.verified).toBe(false);
      expect(record.message).toMatch(/^SES reports DKIM TEMPORARY_FAILURE: .*not verified for sending.*published correctly now/);
    }
    expect(records.filter((r) => r.purpose !== 'DKIM').every((r) => r.verified)).toBe(true);
    expect(f.stored().status!.dnsVerified).toBe(false);
    expect(condition(f.stored(), 'DnsVerified')?.message).toMatch(/DKIM: SES reports DKIM TEMPORARY_FAILURE \(x3\)/);
    expect(condition(f.stored(), 'Ready')?.status).toBe('False');

    // A record removed as well: the message says what to publish.
    const first = records[0]!;
    f.dns.records.delete(`${first.type} ${first.name}`);
    f.clock.now += 10_000;
    await f.reconciler.reconcile('a');
    expect(f.stored().status!.dnsRecords![0]!.message).toMatch(/^SES reports DKIM TEMPORARY_FAILURE: .*fix it: NXDOMAIN: t114\._domainkey/);

    // Published again, but SES gave up meanwhile: FAILED, and what to do about it.
    f.dns.publishFor(f.stored());
    identity.dkimStatus = 'FAILED';
    f.clock.now += 20_000;
    await f.reconciler.reconcile('a');
    expect(f.stored().status!.dnsRecords![0]!.message).toMatch(/^SES reports DKIM FAILED: .*stopped checking.*retry its DKIM verification in the SES console/);
    expect(condition(f.stored(), 'Ready')?.status).toBe('False');

    identity.dkimStatus = 'SUCCESS';
    f.clock.now += 60_000;
    await f.reconciler.reconcile('a');
    expect(condition(f.stored(), 'Ready')?.status).toBe('True');
  });

  it('shows a paused tenant as TenantReady False (Stalled, one Event), keeps it between checks, and Ready again when SES reinstates it', async () => {
    const f = await verifiedSetup();
    f.ses.tenants.get('a_t')!.sendingStatus = 'DISABLED';
    await f.slowCheck();
    const paused = condition(f.stored(), 'TenantReady');
    expect(paused).toMatchObject({ status: 'False', reason: 'TenantPaused' });
    expect(paused?.message).toMatch(/SES paused sending for tenant a_t in eu-west-1 .*SES console.*AWS Support/);
    expect(condition(f.stored(), 'Ready')).toMatchObject({ status: 'False', reason: 'TenantPaused' });
    expect(condition(f.stored(), 'Stalled')?.reason).toBe('TenantPaused');
    expect(f.stored().status!.tenant!.sendingStatus).toBe('DISABLED');

    // A reconcile between checks (any watch event) keeps what the check found, and sends no second Event.
    f.clock.now += 60_000;
    await f.reconciler.reconcile('a');
    expect(condition(f.stored(), 'TenantReady')?.reason).toBe('TenantPaused');
    expect(f.events.filter((e) => e.reason === 'TenantPaused').length).toBe(1);
    f.clock.now -= 60_000;

    f.ses.tenants.get('a_t')!.sendingStatus = 'REINSTATED';
    await f.slowCheck();
    expect(condition(f.stored(), 'TenantReady')?.status).toBe('True');
    expect(condition(f.stored(), 'Ready')?.status).toBe('True');
    expect(condition(f.stored(), 'Stalled')).toBeUndefined();
    expect(f.events.at(-1)).toMatchObject({ type: 'Normal', reason: 'TenantReinstated' });
  });
});

describe('AccessDenied: Stalled, naming the action and the policy file, retried slowly', () => {
  it('on a read-back: one Event, one call per slow retry, recovers once granted', async () => {
    const f = await verifiedSetup();
    f.ses.denied.add('GetTenant');
    const result = await f.slowCheck();
    expect(result?.requeueAfterMs).toBe(5 * 60_000);
    const stalled = condition(f.stored(), 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'AccessDenied' });
    expect(stalled?.message).toMatch(/SES denied ses:GetTenant .*Allow ses:GetTenant \(deploy\/iam-policy\.json lists every action/);
    expect(condition(f.stored(), 'Ready')?.reason).toBe('AccessDenied');
    for (let retry = 0; retry < 3; retry++) {
      f.clock.now += 5 * 60_000;
      f.ses.calls.length = 0;
      expect((await f.reconciler.reconcile('a'))?.requeueAfterMs).toBe(5 * 60_000);
      expect(f.ses.calls).toEqual(['GetTenant']);
    }
    expect(f.events.filter((e) => e.reason === 'AccessDenied').length).toBe(1);

    f.ses.denied.clear();
    f.clock.now += 5 * 60_000;
    await f.reconciler.reconcile('a');
    expect(condition(f.stored(), 'Ready')?.status).toBe('True');
    expect(condition(f.stored(), 'Stalled')).toBeUndefined();
  });

  it('on a create: the setup is Stalled naming ses:CreateTenant, not retried by the fast backoff', async () => {
    const f = reconcilerFixture();
    f.ses.denied.add('CreateTenant');
    f.apply(newSetup('a'));
    const result = await f.reconciler.reconcile('a');
    expect(result?.requeueAfterMs).toBe(5 * 60_000);
    expect(condition(f.cluster.objects.get('a'), 'TenantReady')).toMatchObject({ status: 'False', reason: 'AccessDenied' });
    expect(condition(f.cluster.objects.get('a'), 'Stalled')?.message).toMatch(/ses:CreateTenant.*deploy\/iam-policy\.json/);
    expect(f.events.filter((e) => e.type === 'Warning').map((e) => e.reason)).toEqual(['AccessDenied']);
  });

  it('on a teardown: the deletion waits, its message names ses:DeleteTenant and the policy file, retried slowly, then finishes', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a'));
    await f.reconciler.reconcile('a');
    f.ses.denied.add('DeleteTenant');
    f.cluster.markDeleted('a');
    expect((await f.reconciler.reconcile('a'))?.requeueAfterMs).toBe(5 * 60_000);
    const ready = condition(f.cluster.objects.get('a'), 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'TearDownFailed' });
    expect(ready?.message).toMatch(/SES denied ses:DeleteTenant .*deploy\/iam-policy\.json.*retrying every 300s/);
    expect(f.cluster.objects.get('a')!.metadata.finalizers).toEqual(['ses.channels.dev/finalizer']);

    f.ses.denied.clear();
    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.has('a')).toBe(false);
    expect(f.ses.tenants.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { REGION_ANNOTATION, VERIFY_ANNOTATION } from '../../../../src/api/group.ts';
import { condition, newSetup, reconcilerFixture } from './fixture.ts';

describe('the region a setup was created in', () => {
  it("is kept across a change of the operator's default region: every later call and the teardown go there", async () => {
    const f = reconcilerFixture({ defaultRegion: 'eu-west-1' });
    f.apply(newSetup('a'));
    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.get('a')!.status?.region).toBe('eu-west-1');

    // The operator restarts with another --region / AWS_REGION.
    const restarted = f.reconcilerWith({ defaultRegion: 'us-east-1' });
    const stored = f.cluster.objects.get('a')!;
    stored.metadata.annotations = { [VERIFY_ANNOTATION]: 'check-1' };
    f.cluster.put(stored);
    await restarted.reconcile('a');
    expect(f.ses.calls.slice(-3)).toEqual(['GetTenant', 'GetEmailIdentity', 'ListResourceTenants']);
    const status = f.cluster.objects.get('a')!.status!;
    expect(status.region).toBe('eu-west-1');
    expect(status.dnsRecords?.find((r) => r.purpose === 'MX')?.value).toBe('10 inbound-smtp.eu-west-1.amazonaws.com');

    f.cluster.markDeleted('a');
    await restarted.reconcile('a');
    expect(f.cluster.objects.has('a')).toBe(false);
    expect(f.ses.calls).toContain('DeleteTenant');
    expect(new Set(f.ses.callRegions)).toEqual(new Set(['eu-west-1']));
  });

  it("is recorded before the first SES call, in the finalizer's write: a crash before the result is written, then another default, creates nothing twice", async () => {
    const f = reconcilerFixture({ defaultRegion: 'eu-west-1' });
    f.apply(newSetup('a'));
    // The operator dies before any status write that follows SES creating the tenant and identity.
    const patchStatus = f.cluster.client.patchStatus;
    f.cluster.client.patchStatus = async (object, status) => {
      if (f.ses.calls.includes('CreateTenant')) throw new Error('killed');
      return patchStatus(object, status);
    };
    await expect(f.reconciler.reconcile('a')).rejects.toThrow('killed');
    expect(f.ses.calls).toContain('CreateTenant');
    const pinned = f.cluster.objects.get('a')!;
    expect(pinned.status?.region).toBeUndefined();
    expect(pinned.metadata.annotations?.[REGION_ANNOTATION]).toBe('eu-west-1');
    f.cluster.client.patchStatus = patchStatus;

    const restarted = f.reconcilerWith({ defaultRegion: 'us-east-1' });
    await restarted.reconcile('a');
    expect(f.cluster.objects.get('a')!.status?.tenant?.arn).toMatch(/^arn:aws:ses:eu-west-1:/);
    f.cluster.markDeleted('a');
    await restarted.reconcile('a');
    expect(f.cluster.objects.has('a')).toBe(false);
    expect(f.ses.tenants.size).toBe(0);
    expect(new Set(f.ses.callRegions)).toEqual(new Set(['eu-west-1']));
  });

  it('is read from the ARNs of a setup written before status.region existed, and then recorded', async () => {
    const f = reconcilerFixture({ defaultRegion: 'eu-west-1' });
    f.apply(newSetup('old'));
    await f.reconciler.reconcile('old');
    const stored = f.cluster.objects.get('old')!;
    delete stored.status!.region;
    f.cluster.put(stored);

    const restarted = f.reconcilerWith({ defaultRegion: 'ap-south-1' });
    await restarted.reconcile('old');
    expect(f.cluster.objects.get('old')!.status?.region).toBe('eu-west-1');
    const vanishedLater = structuredClone(f.cluster.objects.get('old')!);
    f.cluster.objects.delete('old');
    restarted.vanished(vanishedLater);
    await restarted.reconcile('old');
    expect(f.ses.tenants.size).toBe(0);
    expect(new Set(f.ses.callRegions)).toEqual(new Set(['eu-west-1']));
  });

  it('differing from spec.region stalls the setup with RegionMismatch and touches nothing in SES', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a', { region: 'eu-west-1' }));
    await f.reconciler.reconcile('a');
    const calls = f.ses.calls.length;
    const moved = f.cluster.objects.get('a')!;
    moved.spec.region = 'us-east-1'; // an older CRD without the immutability rule let this through
    moved.metadata.generation = 2;
    f.cluster.put(moved);

    await f.reconciler.reconcile('a');
    expect(f.ses.calls.length).toBe(calls);
    const setup = f.cluster.objects.get('a');
    expect(condition(setup, 'Stalled')).toMatchObject({ status: 'True', reason: 'RegionMismatch' });
    expect(condition(setup, 'Ready')).toMatchObject({ status: 'False', reason: 'RegionMismatch' });
    expect(condition(setup, 'Ready')?.message).toContain('live in eu-west-1 (status.region)');
    expect(setup!.status?.region).toBe('eu-west-1');
    expect(f.events.some((e) => e.type === 'Warning' && e.reason === 'RegionMismatch')).toBe(true);

    f.cluster.markDeleted('a');
    await f.reconciler.reconcile('a');
    expect(f.ses.tenants.size).toBe(0);
    expect(new Set(f.ses.callRegions)).toEqual(new Set(['eu-west-1']));
  });
});

import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../../../../src/api/group.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { SesError } from '../../../../src/ses/gateway.ts';
import { ApiError } from '../../../../src/runtime/kube-http.ts';
import { condition, newSetup, reconcilerFixture } from './fixture.ts';

describe('deleting a SesSetup', () => {
  it("tears down and releases the finalizer of a stored object whose spec fails today's schema, from what status recorded", async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('old'));
    await f.reconciler.reconcile('old');
    expect(f.ses.tenants.size).toBe(1);
    // A looser CRD once stored this spec; today's schema rejects it (pattern, unknown field).
    const stored = f.cluster.objects.get('old')!;
    (stored.spec as Record<string, unknown>).tenantName = 'not a valid name!';
    (stored.spec as Record<string, unknown>).legacyField = true;
    f.cluster.put(stored);
    f.cluster.markDeleted('old');
    const before = f.ses.calls.length;

    await f.reconciler.reconcile('old');
    expect(f.ses.calls.slice(before)).toEqual(['GetTenant', 'GetEmailIdentity', 'DeleteTenantResourceAssociation', 'DeleteEmailIdentity', 'DeleteTenant']);
    expect(f.ses.tenants.size).toBe(0);
    expect(f.ses.identities.size).toBe(0);
    expect(f.ses.associations.size).toBe(0);
    expect(f.cluster.objects.has('old')).toBe(false);
    expect(f.events.filter((e) => e.reason === 'Deleted').map((e) => e.message)).toEqual(['SES identity old.example.test deleted', 'SES tenant old_t deleted']);
  });

  it('takes a finalizer already gone (404: another reconcile of the same deletion released it) for released, without an error or a status write', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a'));
    await f.reconciler.reconcile('a');
    f.cluster.markDeleted('a');
    f.cluster.client.removeFinalizer = async () => {
      throw new ApiError(404, 'NotFound', 'sessetups.ses.channels.dev "a" not found');
    };
    const statusPatches = f.cluster.statusPatchCalls;
    await f.reconciler.reconcile('a');
    expect(f.cluster.statusPatchCalls).toBe(statusPatches);
    expect(f.ses.tenants.size).toBe(0);
  });

  it('releases the finalizer of an invalid object SES never saw without calling SES for a name it could not hold', async () => {
    const f = reconcilerFixture();
    const invalid = newSetup('never');
    (invalid.spec as Record<string, unknown>).tenantName = 'no spaces allowed';
    invalid.metadata.finalizers = [FINALIZER];
    f.apply(invalid);
    await f.reconciler.reconcile('never');
    expect(condition(f.cluster.objects.get('never'), 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(f.ses.calls).toEqual([]);

    f.cluster.markDeleted('never');
    await f.reconciler.reconcile('never');
    expect(f.cluster.objects.has('never')).toBe(false);
    // Only the identity (a valid domain) is looked up: nothing named like the invalid tenant can exist in SES.
    expect(f.ses.calls).toEqual(['GetEmailIdentity']);
  });

  it('writes observedGeneration with the blocked deletion (a DELETE bumps metadata.generation)', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a'));
    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.get('a')!.status?.observedGeneration).toBe(1);
    f.referrers.set('emailusecases/billing/invoices', 'EmailUseCase billing/invoices', 'a');
    f.cluster.markDeleted('a');
    expect(f.cluster.objects.get('a')!.metadata.generation).toBe(2);

    await f.reconciler.reconcile('a');
    const status = f.cluster.objects.get('a')!.status!;
    expect(status.observedGeneration).toBe(2);
    expect(condition(f.cluster.objects.get('a'), 'DeletionBlocked')).toMatchObject({ status: 'True', reason: 'ReferencedBy', observedGeneration: 2 });
    expect(condition(f.cluster.objects.get('a'), 'Ready')).toMatchObject({ status: 'False', reason: 'DeletionBlocked', observedGeneration: 2 });
    expect(status.usedBy).toEqual(['EmailUseCase billing/invoices']);
  });

  it('reports a failed teardown on the object and retries it', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a'));
    await f.reconciler.reconcile('a');
    f.cluster.markDeleted('a');
    f.ses.failNext.set('DeleteEmailIdentity', new SesError('Throttled', 'DeleteEmailIdentity', 'slow down'));
    await expect(f.reconciler.reconcile('a')).rejects.toThrow('slow down');
    const failed: SesSetup = f.cluster.objects.get('a')!;
    expect(condition(failed, 'Ready')).toMatchObject({ status: 'False', reason: 'TearDownFailed', observedGeneration: 2 });
    expect(condition(failed, 'Ready')?.message).toContain('tearing down in eu-west-1 failed');
    expect(condition(failed, 'Reconciling')?.status).toBe('True');
    expect(failed.metadata.finalizers).toEqual([FINALIZER]);

    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.has('a')).toBe(false);
    expect(f.ses.identities.size).toBe(0);
    expect(f.ses.tenants.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { condition, newSetup, reconcilerFixture } from './fixture.ts';

const billingOnly: SesSetup['spec']['allowedNamespaces'] = { from: 'Selector', selector: { matchLabels: { team: 'billing' } } };

/** A reconciler whose namespace labels the test can change, with use cases in billing (allowed) and shop (not). */
function fencedFixture() {
  const labels: Record<string, Record<string, string>> = { billing: { team: 'billing' }, shop: { team: 'shop' } };
  const f = reconcilerFixture({ namespaces: { labels: (name) => labels[name] } });
  f.referrers.set('emailusecases/billing/invoices', 'EmailUseCase billing/invoices', 'a', 'billing');
  f.referrers.set('emailusecases/shop/orders', 'EmailUseCase shop/orders', 'a', 'shop');
  return { ...f, labels };
}

describe('a SesSetup with allowedNamespaces', () => {
  it('lists and counts only the referrers from namespaces it allows', async () => {
    const f = fencedFixture();
    f.apply(newSetup('a', { allowedNamespaces: billingOnly }));
    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.get('a')!.status).toMatchObject({ usedBy: ['EmailUseCase billing/invoices'], usedByCount: 1 });

    f.labels.shop = { team: 'billing' };
    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.get('a')!.status).toMatchObject({ usedBy: ['EmailUseCase billing/invoices', 'EmailUseCase shop/orders'], usedByCount: 2 });
  });

  it('is deleted while a use case from a namespace it does not allow still names it', async () => {
    const f = fencedFixture();
    f.referrers.remove('emailusecases/billing/invoices');
    f.apply(newSetup('a', { allowedNamespaces: billingOnly }));
    await f.reconciler.reconcile('a');
    expect(f.ses.tenants.size).toBe(1);
    f.cluster.markDeleted('a');
    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.has('a')).toBe(false);
    expect(f.ses.tenants.size).toBe(0);
    expect(f.events.map((e) => e.reason)).not.toContain('DeletionBlocked');
  });

  it('waits for the use cases from allowed namespaces, and names only them', async () => {
    const f = fencedFixture();
    f.apply(newSetup('a', { allowedNamespaces: billingOnly }));
    await f.reconciler.reconcile('a');
    f.cluster.markDeleted('a');
    await f.reconciler.reconcile('a');
    const blocked = condition(f.cluster.objects.get('a'), 'DeletionBlocked');
    expect(blocked).toMatchObject({ status: 'True', reason: 'ReferencedBy' });
    expect(blocked!.message).toBe('deletion waits for 1 referrer(s) to be deleted: EmailUseCase billing/invoices');
  });

  it('with from: All counts every referrer, as before', async () => {
    const f = fencedFixture();
    f.apply(newSetup('a', { allowedNamespaces: { from: 'All' } }));
    await f.reconciler.reconcile('a');
    expect(f.cluster.objects.get('a')!.status?.usedByCount).toBe(2);
  });
});

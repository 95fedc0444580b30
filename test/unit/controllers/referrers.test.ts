import { describe, expect, it } from 'vitest';
import { ReferrerIndex } from '../../../src/controllers/referrers.ts';

describe('ReferrerIndex', () => {
  function index() {
    const referrers = new ReferrerIndex();
    referrers.set('emailusecases/billing/invoices', 'EmailUseCase billing/invoices', 'a', 'billing');
    referrers.set('emailusecases/shop/orders', 'EmailUseCase shop/orders', 'a', 'shop');
    referrers.set('mailers.example.com/platform-mailer', 'Mailer platform-mailer', 'a');
    referrers.set('emailusecases/shop/news', 'EmailUseCase shop/news', 'b', 'shop');
    return referrers;
  }

  it('lists every referrer of a setup without a filter, and only those that count with one', () => {
    const referrers = index();
    expect(referrers.referrers('a')).toEqual(['EmailUseCase billing/invoices', 'EmailUseCase shop/orders', 'Mailer platform-mailer']);
    expect(referrers.count('a')).toBe(3);
    const billingOnly = (namespace: string | undefined) => namespace === undefined || namespace === 'billing';
    expect(referrers.referrers('a', billingOnly)).toEqual(['EmailUseCase billing/invoices', 'Mailer platform-mailer']);
    expect(referrers.count('a', billingOnly)).toBe(2);
    expect(referrers.count('a', () => false)).toBe(0);
    // The ids are every reference, counted or not: the use cases must still be told about their setup.
    expect(referrers.ids('a').sort()).toEqual(['emailusecases/billing/invoices', 'emailusecases/shop/orders', 'mailers.example.com/platform-mailer']);
  });

  it('indexes references by namespace, following them as they move and go', () => {
    const referrers = index();
    expect(referrers.inNamespace('shop')).toEqual([
      { id: 'emailusecases/shop/orders', setup: 'a' },
      { id: 'emailusecases/shop/news', setup: 'b' },
    ]);
    expect(referrers.set('emailusecases/shop/orders', 'EmailUseCase shop/orders', 'b', 'shop')).toEqual(['a', 'b']);
    expect(referrers.inNamespace('shop')).toEqual([
      { id: 'emailusecases/shop/news', setup: 'b' },
      { id: 'emailusecases/shop/orders', setup: 'b' },
    ]);
    expect(referrers.remove('emailusecases/shop/orders')).toEqual(['b']);
    expect(referrers.remove('emailusecases/shop/news')).toEqual(['b']);
    expect(referrers.inNamespace('shop')).toEqual([]);
    expect(referrers.remove('emailusecases/billing/invoices')).toEqual(['a']);
    expect(referrers.inNamespace('billing')).toEqual([]);
    // A reference that names no setup is not indexed under its namespace.
    referrers.set('emailusecases/new/x', 'EmailUseCase new/x', undefined, 'new');
    expect(referrers.inNamespace('new')).toEqual([]);
    expect(referrers.referrers('a')).toEqual(['Mailer platform-mailer']);
  });
});

import { describe, expect, it } from 'vitest';
import type { SesSetup } from '../../../src/api/sessetup.ts';
import { ReferrerIndex } from '../../../src/controllers/referrers.ts';
import { allowedNamespacesChanged, countedReferrers, fencesNamespaces, namespaceAdmission, type NamespaceLabels } from '../../../src/controllers/tenancy.ts';
import { newSetup } from './sessetup/fixture.ts';

const namespaces = (labels: Record<string, Record<string, string>>): NamespaceLabels => ({ labels: (name) => labels[name] });
const seen = namespaces({
  billing: { team: 'billing', 'kubernetes.io/metadata.name': 'billing' },
  shop: { team: 'shop', 'kubernetes.io/metadata.name': 'shop' },
});
const selecting = (selector: NonNullable<SesSetup['spec']['allowedNamespaces']>['selector']) =>
  newSetup('acme', { allowedNamespaces: { from: 'Selector', selector } });

describe('namespace admission (spec.allowedNamespaces)', () => {
  it('admits every namespace without allowedNamespaces and with from: All', () => {
    expect(namespaceAdmission(newSetup('acme'), 'shop', seen)).toEqual({ allowed: true });
    expect(namespaceAdmission(newSetup('acme', { allowedNamespaces: { from: 'All' } }), 'shop', seen)).toEqual({ allowed: true });
  });

  it('with from: Selector admits the namespaces whose labels match, and names the setup and the rule for the others', () => {
    const setup = selecting({ matchLabels: { team: 'billing' } });
    expect(namespaceAdmission(setup, 'billing', seen)).toEqual({ allowed: true });
    expect(namespaceAdmission(setup, 'shop', seen)).toEqual({
      allowed: false,
      message:
        'namespace shop is not allowed to use SesSetup acme: its spec.allowedNamespaces admits only namespaces whose labels match "team=billing"; label the namespace to match, or change the setup\'s allowedNamespaces',
    });
  });

  it('admits cluster-scoped referrers (no namespace) whatever the selector', () => {
    expect(namespaceAdmission(selecting({ matchLabels: { team: 'nobody' } }), undefined, seen)).toEqual({ allowed: true });
  });

  it('judges a namespace the watch has not delivered by the name label the API server gives every namespace', () => {
    const byName = selecting({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['fresh'] }] });
    expect(namespaceAdmission(byName, 'fresh', seen).allowed).toBe(true);
    expect(namespaceAdmission(selecting({ matchLabels: { team: 'billing' } }), 'fresh', seen).allowed).toBe(false);
  });

  it('admits nothing for a stored Selector without a selector (only an outdated CRD lets one through)', () => {
    const broken = newSetup('acme', { allowedNamespaces: { from: 'Selector' } });
    const admission = namespaceAdmission(broken, 'billing', seen);
    expect(admission.allowed).toBe(false);
    expect(admission).toMatchObject({ message: expect.stringContaining('without a selector') });
  });

  it('counts only the referrers from admitted namespaces (usedBy, deletion)', () => {
    const referrers = new ReferrerIndex();
    referrers.set('emailusecases/billing/invoices', 'EmailUseCase billing/invoices', 'acme', 'billing');
    referrers.set('emailusecases/shop/orders', 'EmailUseCase shop/orders', 'acme', 'shop');
    referrers.set('mailers.example.com/platform', 'Mailer platform', 'acme');
    expect(countedReferrers(selecting({ matchLabels: { team: 'billing' } }), referrers, seen)).toEqual(['EmailUseCase billing/invoices', 'Mailer platform']);
    expect(countedReferrers(newSetup('acme'), referrers, seen)).toHaveLength(3);
  });

  it('tells whether a setup fences namespaces and whether its allowance changed', () => {
    const open = newSetup('acme');
    const fenced = selecting({ matchLabels: { team: 'billing' } });
    expect(fencesNamespaces(open)).toBe(false);
    expect(fencesNamespaces(newSetup('acme', { allowedNamespaces: { from: 'All' } }))).toBe(false);
    expect(fencesNamespaces(fenced)).toBe(true);
    expect(fencesNamespaces(undefined)).toBe(false);
    expect(allowedNamespacesChanged(fenced, open)).toBe(true);
    expect(allowedNamespacesChanged(structuredClone(fenced), fenced)).toBe(false);
    expect(allowedNamespacesChanged(selecting({ matchLabels: { team: 'shop' } }), fenced)).toBe(true);
  });
});

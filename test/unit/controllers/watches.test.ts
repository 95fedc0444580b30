import { describe, expect, it } from 'vitest';
import { VERIFY_ANNOTATION } from '../../../src/api/group.ts';
import type { EmailUseCase } from '../../../src/api/emailusecase.ts';
import type { KubeObject } from '../../../src/api/meta.ts';
import type { SesSetup } from '../../../src/api/sessetup.ts';
import { ReferrerIndex, type ReferrerKind } from '../../../src/controllers/referrers.ts';
import { ClaimIndex } from '../../../src/controllers/sessetup/claims.ts';
import type { DnsEndpoint } from '../../../src/controllers/sessetup/dns-endpoint.ts';
import {
  dnsEndpointChanged,
  dnsEndpointDeleted,
  dnsEndpointSetup,
  dnsEndpointsSynced,
  namespaceAdded,
  namespaceLabelsChanged,
  namespaceReferrers,
  namespaceUpdated,
  referrerChanged,
  referrerDeleted,
  setupAdded,
  setupDeleted,
  setupNeedsReconcile,
  setupUpdated,
  useCaseAdded,
  useCaseDeleted,
  useCaseUpdated,
  useCasesOf,
  type NamespaceMeta,
} from '../../../src/controllers/watches.ts';
import { newSetup } from './sessetup/fixture.ts';

function useCase(namespace: string, name: string, setup: string | undefined, generation = 1): EmailUseCase {
  return {
    apiVersion: 'ses.channels.dev/v1alpha1',
    kind: 'EmailUseCase',
    metadata: { name, namespace, generation },
    spec: { sesSetupRef: setup === undefined ? undefined : { name: setup }, fromAddress: `x@${setup}.example.test` } as EmailUseCase['spec'],
  };
}

function indexes() {
  return { claims: new ClaimIndex(), referrers: new ReferrerIndex() };
}

/** A copy as our own status write leaves it: new resourceVersion, new status, nothing else. */
function afterStatusWrite(setup: SesSetup, status: SesSetup['status']): SesSetup {
  return { ...structuredClone(setup), metadata: { ...setup.metadata, resourceVersion: '99' }, status };
}

const ready = (value: 'True' | 'False'): SesSetup['status'] => ({
  conditions: [{ type: 'Ready', status: value, reason: 'x', message: 'x', lastTransitionTime: '2026-11-28T12:00:00Z' }],
});

describe('SesSetup events', () => {
  it('an added setup wakes itself, the setups sharing a claim, and its use cases', () => {
    const ix = indexes();
    setupAdded(newSetup('first', { tenantName: 'shared' }), ix);
    useCaseAdded(useCase('billing', 'invoices', 'second'), ix.referrers);
    const wake = setupAdded(newSetup('second', { tenantName: 'shared' }, '2026-11-28T11:00:00Z'), ix);
    expect(wake.setups.sort()).toEqual(['first', 'second']);
    expect(wake.useCases).toEqual(['billing/invoices']);
  });

  it("ignores the operator's own status writes unless Ready changed, which wakes only the use cases", () => {
    const ix = indexes();
    const setup = newSetup('a');
    setupAdded(setup, ix);
    useCaseAdded(useCase('billing', 'invoices', 'a'), ix.referrers);
    const written = afterStatusWrite(setup, ready('False'));
    expect(setupNeedsReconcile(written, setup)).toBe(false);
    expect(setupUpdated(written, setup, ix)).toEqual({ setups: [], useCases: ['billing/invoices'] });
    const again = afterStatusWrite(written, { ...ready('False'), dnsCheckedAt: '2026-11-28T12:05:00Z' });
    expect(setupUpdated(again, written, ix)).toEqual({ setups: [], useCases: [] });
    expect(setupUpdated(afterStatusWrite(again, ready('True')), again, ix)).toEqual({ setups: [], useCases: ['billing/invoices'] });
  });

  it('wakes the setup for a spec change, a deletion and a new verify request', () => {
    const ix = indexes();
    const setup = newSetup('a');
    setupAdded(setup, ix);
    const specChanged = { ...structuredClone(setup), metadata: { ...setup.metadata, generation: 2 } };
    const deleting = { ...structuredClone(setup), metadata: { ...setup.metadata, deletionTimestamp: '2026-11-28T12:01:00Z' } };
    const verify = { ...structuredClone(setup), metadata: { ...setup.metadata, annotations: { [VERIFY_ANNOTATION]: 'now' } } };
    for (const updated of [specChanged, deleting, verify]) expect(setupUpdated(updated, setup, ix).setups).toEqual(['a']);
    expect(setupUpdated(deleting, setup, ix).useCases).toEqual([]);
  });

  it('re-indexes claims when a status write changes who holds one, waking the setup waiting on it', () => {
    const ix = indexes();
    const z = newSetup('z', { tenantName: 'shared' });
    const a = newSetup('a', { tenantName: 'shared' });
    setupAdded(z, ix);
    setupAdded(a, ix);
    expect(ix.claims.conflictFor(z)?.holder).toBe('a'); // same second: the name decides
    // z's status write records the tenant as created by z: z now holds the claim, and a must look again.
    const holding = afterStatusWrite(z, { tenant: { name: 'shared', arn: 'arn:aws:ses:eu-west-1:1:tenant/shared/t' } });
    expect(setupUpdated(holding, z, ix).setups).toEqual(['a']);
    expect(ix.claims.conflictFor(holding)).toBeUndefined();
    expect(ix.claims.conflictFor(a)?.holder).toBe('z');
  });

  it('a deleted setup wakes itself, the setups waiting on its claims, and its use cases', () => {
    const ix = indexes();
    const first = newSetup('first', { domainIdentity: 'shared.example.test' });
    setupAdded(first, ix);
    setupAdded(newSetup('second', { domainIdentity: 'shared.example.test' }, '2026-11-28T11:00:00Z'), ix);
    useCaseAdded(useCase('billing', 'invoices', 'first'), ix.referrers);
    expect(setupDeleted(first, ix)).toEqual({ setups: ['second', 'first'], useCases: ['billing/invoices'] });
    expect(ix.claims.conflictFor(newSetup('second', { domainIdentity: 'shared.example.test' }, '2026-11-28T11:00:00Z'))).toBeUndefined();
  });
});

describe('EmailUseCase events', () => {
  it('an added use case wakes itself and the setup it references, and counts as its referrer', () => {
    const referrers = new ReferrerIndex();
    expect(useCaseAdded(useCase('billing', 'invoices', 'a'), referrers)).toEqual({ setups: ['a'], useCases: ['billing/invoices'] });
    expect(referrers.referrers('a')).toEqual(['EmailUseCase billing/invoices']);
    expect(useCasesOf('a', referrers)).toEqual(['billing/invoices']);
  });

  it('a moved reference wakes both setups; its own status write wakes nothing', () => {
    const referrers = new ReferrerIndex();
    const original = useCase('billing', 'invoices', 'a');
    useCaseAdded(original, referrers);
    const statusOnly = { ...structuredClone(original), status: { observedGeneration: 1 } };
    expect(useCaseUpdated(statusOnly, original, referrers)).toEqual({ setups: [], useCases: [] });
    const moved = useCase('billing', 'invoices', 'b', 2);
    expect(useCaseUpdated(moved, statusOnly, referrers)).toEqual({ setups: ['a', 'b'], useCases: ['billing/invoices'] });
  });

  it('a deleted use case wakes the setup it referenced (a deletion may wait on it)', () => {
    const referrers = new ReferrerIndex();
    const invoices = useCase('billing', 'invoices', 'a');
    useCaseAdded(invoices, referrers);
    expect(useCaseDeleted(invoices, referrers)).toEqual({ setups: ['a'], useCases: [] });
    expect(referrers.count('a')).toBe(0);
  });

  it('a use case without a reference references nothing', () => {
    const referrers = new ReferrerIndex();
    expect(useCaseAdded(useCase('billing', 'invoices', undefined), referrers)).toEqual({ setups: [], useCases: ['billing/invoices'] });
  });
});

describe('configured referrer kinds', () => {
  const kind: ReferrerKind = { group: '', version: 'v1', resource: 'configmaps', fieldPath: 'data.sesSetup' };
  const configMap = (setup: string | undefined): KubeObject & { data: Record<string, string> } => ({
    kind: 'ConfigMap',
    metadata: { name: 'mailer', namespace: 'apps' },
    data: setup ? { sesSetup: setup } : {},
  });

  it('wake the setup they reference, on add, change and delete', () => {
    const referrers = new ReferrerIndex();
    expect(referrerChanged(kind, configMap('a'), referrers)).toEqual(['a']);
    expect(referrers.referrers('a')).toEqual(['ConfigMap apps/mailer']);
    expect(referrerChanged(kind, configMap('a'), referrers)).toEqual([]);
    expect(referrerChanged(kind, configMap('b'), referrers)).toEqual(['a', 'b']);
    expect(referrerDeleted(kind, configMap('b'), referrers)).toEqual(['b']);
    expect(referrerChanged(kind, configMap(undefined), referrers)).toEqual([]);
  });
});

describe('DNSEndpoint events', () => {
  const endpoint = (generation: number, observed?: number, labels: Record<string, string> = { 'ses.channels.dev/sessetup': 'acme' }): DnsEndpoint => ({
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name: 'acme', namespace: 'ses-operator', generation, labels },
    ...(observed === undefined ? {} : { status: { observedGeneration: observed } }),
  });

  it('added or deleted: its setup is reconciled (a hand-deleted one is recreated), no check forced', () => {
    expect(dnsEndpointChanged(endpoint(1), undefined)).toEqual({ setups: ['acme'], recheckNow: [] });
    expect(dnsEndpointDeleted(endpoint(1))).toEqual({ setups: ['acme'], recheckNow: [] });
  });

  it('external-dns observed the new generation: the setup is reconciled and its DNS check is due now', () => {
    expect(dnsEndpointChanged(endpoint(2, 2), endpoint(2, 1))).toEqual({ setups: ['acme'], recheckNow: ['acme'] });
    expect(dnsEndpointChanged(endpoint(1, 1), endpoint(1))).toEqual({ setups: ['acme'], recheckNow: ['acme'] });
  });

  it('an older generation observed, or a status write that changes nothing: nothing wakes', () => {
    expect(dnsEndpointChanged(endpoint(3, 2), endpoint(3, 1))).toEqual({ setups: [], recheckNow: [] });
    expect(dnsEndpointChanged(endpoint(2, 2), endpoint(2, 2))).toEqual({ setups: [], recheckNow: [] });
  });

  it('a hand edit (new generation or labels) wakes the setup to undo it; without our label nothing wakes', () => {
    expect(dnsEndpointChanged(endpoint(3, 2), endpoint(2, 2))).toEqual({ setups: ['acme'], recheckNow: [] });
    expect(dnsEndpointChanged(endpoint(2, 2, { 'ses.channels.dev/sessetup': 'acme', x: 'y' }), endpoint(2, 2))).toEqual({ setups: ['acme'], recheckNow: [] });
    expect(dnsEndpointChanged(endpoint(1, 1, {}), endpoint(1, undefined, {}))).toEqual({ setups: [], recheckNow: [] });
    expect(dnsEndpointSetup(endpoint(1, 1, {}))).toBeUndefined();
  });

  it('the first listing of DNSEndpoints (a CRD just installed) wakes exactly the setups that ask for ExternalDNS', () => {
    const publishing = newSetup('p', { dnsPublication: 'ExternalDNS' });
    expect(dnsEndpointsSynced([newSetup('m'), publishing, newSetup('d', { dnsPublication: 'Manual' })])).toEqual(['p']);
  });
});

describe('namespace allowances (spec.allowedNamespaces)', () => {
  const fenced: SesSetup['spec']['allowedNamespaces'] = { from: 'Selector', selector: { matchLabels: { team: 'billing' } } };
  const namespace = (name: string, labels?: Record<string, string>, resourceVersion = '1'): NamespaceMeta => ({
    metadata: { name, resourceVersion, ...(labels ? { labels } : {}) },
  });
  const kind: ReferrerKind = { group: '', version: 'v1', resource: 'configmaps', fieldPath: 'data.sesSetup' };

  /** Use cases in billing and shop naming the fenced setup "f" and the open setup "open"; a ConfigMap in shop naming "g". */
  function world() {
    const ix = indexes();
    useCaseAdded(useCase('billing', 'invoices', 'f'), ix.referrers);
    useCaseAdded(useCase('shop', 'orders', 'f'), ix.referrers);
    useCaseAdded(useCase('shop', 'news', 'open'), ix.referrers);
    referrerChanged(kind, { kind: 'ConfigMap', metadata: { name: 'mailer', namespace: 'shop' }, data: { sesSetup: 'g' } } as KubeObject, ix.referrers);
    const fences = (setup: string) => setup === 'f' || setup === 'g';
    return { ix, fences };
  }

  it("a namespace's label change wakes its use cases and the setups they reference, only for setups that fence namespaces", () => {
    const { ix, fences } = world();
    const wake = namespaceUpdated(namespace('shop', { team: 'billing' }, '2'), namespace('shop', undefined, '1'), ix.referrers, fences);
    expect(wake.useCases).toEqual(['shop/orders']);
    expect(wake.setups.sort()).toEqual(['f', 'g']);
  });

  it('a namespace change that leaves its labels alone wakes nothing', () => {
    const { ix, fences } = world();
    expect(namespaceUpdated(namespace('shop', { team: 'x' }, '2'), namespace('shop', { team: 'x' }, '1'), ix.referrers, fences)).toEqual({
      setups: [],
      useCases: [],
    });
  });

  it('compares labels by key and value, in any order', () => {
    const ns = (labels?: Record<string, string>) => namespace('n', labels);
    expect(namespaceLabelsChanged(ns({ a: '1', b: '2' }), ns({ b: '2', a: '1' }))).toBe(false);
    expect(namespaceLabelsChanged(ns({}), ns(undefined))).toBe(false);
    expect(namespaceLabelsChanged(ns({ a: '1' }), ns({ a: '2' }))).toBe(true);
    expect(namespaceLabelsChanged(ns({ a: '1' }), ns({ b: '1' }))).toBe(true);
    expect(namespaceLabelsChanged(ns({ a: '1' }), ns({ a: '1', b: '' }))).toBe(true);
    expect(namespaceLabelsChanged(ns({ a: '' }), ns(undefined))).toBe(true);
  });

  it('a namespace the watch delivers late wakes what references setups from it; an empty or unknown namespace wakes nothing', () => {
    const { ix, fences } = world();
    expect(namespaceAdded(namespace('billing', { team: 'billing' }), ix.referrers, fences)).toEqual({ setups: ['f'], useCases: ['billing/invoices'] });
    expect(namespaceAdded(namespace('empty'), ix.referrers, fences)).toEqual({ setups: [], useCases: [] });
    expect(namespaceReferrers('shop', ix.referrers, () => false)).toEqual({ setups: [], useCases: [] });
  });

  it('follows references as they move and go', () => {
    const { ix, fences } = world();
    useCaseUpdated(useCase('shop', 'orders', 'open', 2), useCase('shop', 'orders', 'f'), ix.referrers);
    expect(namespaceReferrers('shop', ix.referrers, fences)).toEqual({ setups: ['g'], useCases: [] });
    useCaseDeleted(useCase('billing', 'invoices', 'f'), ix.referrers);
    expect(namespaceReferrers('billing', ix.referrers, fences)).toEqual({ setups: [], useCases: [] });
  });

  it("a change of the setup's allowedNamespaces wakes the setup and all its use cases; other spec changes only the setup", () => {
    const ix = indexes();
    const open = newSetup('f');
    setupAdded(open, ix);
    useCaseAdded(useCase('billing', 'invoices', 'f'), ix.referrers);
    useCaseAdded(useCase('shop', 'orders', 'f'), ix.referrers);
    const selecting = { ...structuredClone(open), metadata: { ...open.metadata, generation: 2 }, spec: { ...open.spec, allowedNamespaces: fenced } };
    const wake = setupUpdated(selecting, open, ix);
    expect(wake.setups).toEqual(['f']);
    expect(wake.useCases.sort()).toEqual(['billing/invoices', 'shop/orders']);
    const reselecting = structuredClone(selecting);
    reselecting.metadata.generation = 3;
    reselecting.spec.allowedNamespaces = { from: 'Selector', selector: { matchLabels: { team: 'shop' } } };
    expect(setupUpdated(reselecting, selecting, ix).useCases.sort()).toEqual(['billing/invoices', 'shop/orders']);
    const dmarc = structuredClone(reselecting);
    dmarc.metadata.generation = 4;
    dmarc.spec.dmarc = { policy: 'reject' };
    expect(setupUpdated(dmarc, reselecting, ix)).toEqual({ setups: ['f'], useCases: [] });
  });
});

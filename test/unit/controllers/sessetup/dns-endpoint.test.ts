import { describe, expect, it } from 'vitest';
import {
  dnsEndpointUpToDate,
  endpointsOf,
  endpointTarget,
  generationObserved,
  renderDnsEndpoint,
  updatedDnsEndpoint,
} from '../../../../src/controllers/sessetup/dns-endpoint.ts';
import { problemOf } from '../../../../src/controllers/sessetup/dns-endpoints.ts';
import { ApiError } from '../../../../src/runtime/kube-http.ts';
import { newSetup } from './fixture.ts';

const records = [
  { name: 'tok1._domainkey.mail.acme.test', type: 'CNAME', value: 'tok1.dkim.amazonses.com' },
  { name: 'mail.acme.test', type: 'MX', value: '10 inbound-smtp.eu-west-1.amazonaws.com' },
  { name: '_dmarc.mail.acme.test', type: 'TXT', value: 'v=DMARC1; p=none; rua=mailto:d@acme.test;' },
];

describe('DNSEndpoint rendering', () => {
  it('MX stays "<preference> <host>", CNAME as is, TXT quoted so its ";" is text (external-dns builds a zone-file line)', () => {
    expect(endpointTarget(records[0]!)).toBe('tok1.dkim.amazonses.com');
    expect(endpointTarget(records[1]!)).toBe('10 inbound-smtp.eu-west-1.amazonaws.com');
    expect(endpointTarget(records[2]!)).toBe('"v=DMARC1; p=none; rua=mailto:d@acme.test;"');
    expect(endpointTarget({ type: 'TXT', value: 'say "hi" \\ bye' })).toBe('"say \\"hi\\" \\\\ bye"');
  });

  it('splits TXT text over 255 bytes into several quoted strings', () => {
    const target = endpointTarget({ type: 'TXT', value: 'x'.repeat(300) });
    expect(target).toBe(`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
  });

  it('one endpoint per name and type, each with a TTL', () => {
    const endpoints = endpointsOf([...records, { name: 'MAIL.acme.test', type: 'MX', value: '20 backup.acme.test' }]);
    expect(endpoints).toHaveLength(3);
    expect(endpoints[1]).toEqual({
      dnsName: 'mail.acme.test',
      recordType: 'MX',
      recordTTL: 300,
      targets: ['10 inbound-smtp.eu-west-1.amazonaws.com', '20 backup.acme.test'],
    });
    expect(endpoints.every((e) => e.recordTTL === 300)).toBe(true);
  });

  it('named after the setup, labelled, owned by it', () => {
    const endpoint = renderDnsEndpoint(newSetup('acme'), 'dns', records);
    expect(endpoint).toMatchObject({
      apiVersion: 'externaldns.k8s.io/v1alpha1',
      kind: 'DNSEndpoint',
      metadata: {
        name: 'acme',
        namespace: 'dns',
        labels: { 'app.kubernetes.io/managed-by': 'ses-operator', 'ses.channels.dev/sessetup': 'acme' },
        ownerReferences: [{ apiVersion: 'ses.channels.dev/v1alpha1', kind: 'SesSetup', name: 'acme', uid: 'uid-acme', controller: true }],
      },
    });
  });

  it('up to date ignores status, other labels and fields it does not set; a changed target, label or owner is a difference', () => {
    const desired = renderDnsEndpoint(newSetup('acme'), 'dns', records);
    const stored = structuredClone(desired);
    stored.metadata.labels!.team = 'mail';
    stored.metadata.resourceVersion = '7';
    stored.status = { observedGeneration: 1 };
    (stored.spec!.endpoints![0] as { labels?: object }).labels = { owner: 'x' };
    expect(dnsEndpointUpToDate(stored, desired)).toBe(true);
    const changed = renderDnsEndpoint(newSetup('acme'), 'dns', [...records.slice(0, 2), { ...records[2]!, value: 'v=DMARC1; p=reject;' }]);
    expect(dnsEndpointUpToDate(stored, changed)).toBe(false);
    const relabelled = structuredClone(stored);
    relabelled.metadata.labels!['ses.channels.dev/sessetup'] = 'other';
    expect(dnsEndpointUpToDate(relabelled, desired)).toBe(false);
    const otherOwner = structuredClone(stored);
    otherOwner.metadata.ownerReferences![0]!.uid = 'uid-old';
    expect(dnsEndpointUpToDate(otherOwner, desired)).toBe(false);
  });

  it('an update keeps the resourceVersion and labels of others, and replaces only our owner reference', () => {
    const desired = renderDnsEndpoint(newSetup('acme'), 'dns', records);
    const stored = structuredClone(desired);
    stored.metadata.resourceVersion = '7';
    stored.metadata.labels!.team = 'mail';
    stored.metadata.ownerReferences = [
      { apiVersion: 'ses.channels.dev/v1alpha1', kind: 'SesSetup', name: 'acme', uid: 'uid-old', controller: true },
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'cm' },
    ];
    const update = updatedDnsEndpoint(stored, desired);
    expect(update.metadata.resourceVersion).toBe('7');
    expect(update.metadata.labels!.team).toBe('mail');
    expect(update.metadata.ownerReferences!.map((o) => o.uid)).toEqual(['cm', 'uid-acme']);
  });

  it('generation observed: only when external-dns has written the current generation', () => {
    const endpoint = renderDnsEndpoint(newSetup('acme'), 'dns', records);
    expect(generationObserved(endpoint)).toBe(false);
    endpoint.metadata.generation = 2;
    endpoint.status = { observedGeneration: 1 };
    expect(generationObserved(endpoint)).toBe(false);
    endpoint.status.observedGeneration = 2;
    expect(generationObserved(endpoint)).toBe(true);
  });
});

describe('what a failed DNSEndpoint request means', () => {
  it('404 without a namespace: the CRD is missing; 404 naming the namespace: the namespace is; 403: RBAC; others: retry', () => {
    expect(problemOf(new ApiError(404, undefined, 'HTTP 404: 404 page not found\n'), 'dns')?.reason).toBe('DnsEndpointCrdMissing');
    expect(problemOf(new ApiError(404, 'NotFound', 'namespaces "dns" not found'), 'dns')).toMatchObject({
      reason: 'DnsEndpointNamespaceMissing',
      message: expect.stringMatching(/namespace dns .*does not exist/),
    });
    expect(problemOf(new ApiError(403, 'Forbidden', 'dnsendpoints.externaldns.k8s.io is forbidden'), 'dns')?.reason).toBe('DnsEndpointForbidden');
    expect(problemOf(new ApiError(500, 'InternalError', 'etcd'), 'dns')).toBeUndefined();
    expect(problemOf(new Error('socket hang up'), 'dns')).toBeUndefined();
  });
});

import { isDeepStrictEqual } from 'node:util';
import { API_VERSION, GROUP, SES_SETUP } from '../../api/group.ts';
import type { KubeObject, ObjectMeta } from '../../api/meta.ts';
import type { SesSetup } from '../../api/sessetup.ts';
import { quotedStrings } from '../../dns/txt-strings.ts';

/** external-dns's own CRD (sigs.k8s.io/external-dns, config/crd/standard). */
export const DNS_ENDPOINT = { group: 'externaldns.k8s.io', version: 'v1alpha1', plural: 'dnsendpoints', kind: 'DNSEndpoint' } as const;

/** Long enough that resolvers cache, short enough that a new DKIM token or DMARC policy spreads within minutes. */
export const DNS_ENDPOINT_TTL = 300;

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'ses-operator';
/** Which SesSetup a DNSEndpoint publishes: `kubectl get dnsendpoints -l ses.channels.dev/sessetup=<name>`. */
export const SETUP_LABEL = `${GROUP}/sessetup`;
/** The operator watches only the DNSEndpoints it labelled. */
export const DNS_ENDPOINT_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

export interface Endpoint {
  dnsName: string;
  recordType: string;
  recordTTL?: number;
  targets: string[];
}

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface DnsEndpoint extends KubeObject {
  metadata: ObjectMeta & { ownerReferences?: OwnerReference[] };
  spec?: { endpoints?: Endpoint[] };
  status?: { observedGeneration?: number };
}

/**
 * A record value as external-dns's target. It builds each RR as the zone-file line
 * "<name> <ttl> <type> <target>" (provider/rfc2136 AddRecord; other providers take the text as is),
 * so TXT text is quoted, or the line ends at its first `;`. MX stays "<preference> <host>".
 */
export function endpointTarget(record: { type: string; value: string }): string {
  return record.type === 'TXT' ? quotedStrings(record.value) : record.value;
}

/** One endpoint per name and type (external-dns reports two endpoints for one name and type as a conflict), in record order. */
export function endpointsOf(records: readonly { name: string; type: string; value: string }[]): Endpoint[] {
  const byKey = new Map<string, Endpoint>();
  for (const record of records) {
    const key = `${record.name.toLowerCase()} ${record.type}`;
    let endpoint = byKey.get(key);
    if (!endpoint) byKey.set(key, (endpoint = { dnsName: record.name, recordType: record.type, recordTTL: DNS_ENDPOINT_TTL, targets: [] }));
    const target = endpointTarget(record);
    if (!endpoint.targets.includes(target)) endpoint.targets.push(target);
  }
  return [...byKey.values()];
}

/** The DNSEndpoint a setup's records call for: named after the setup, labelled, owned by it (garbage collected with it). */
export function renderDnsEndpoint(setup: SesSetup, namespace: string, records: readonly { name: string; type: string; value: string }[]): DnsEndpoint {
  return {
    apiVersion: `${DNS_ENDPOINT.group}/${DNS_ENDPOINT.version}`,
    kind: DNS_ENDPOINT.kind,
    metadata: {
      name: setup.metadata.name,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [SETUP_LABEL]: setup.metadata.name },
      ownerReferences: [{ apiVersion: API_VERSION, kind: SES_SETUP.kind, name: setup.metadata.name, uid: setup.metadata.uid ?? '', controller: true }],
    },
    spec: { endpoints: endpointsOf(records) },
  };
}

/** What the operator owns of a DNSEndpoint matches: the endpoints, its labels, its owner. Other labels and annotations are left alone. */
export function dnsEndpointUpToDate(existing: DnsEndpoint, desired: DnsEndpoint): boolean {
  const labels = existing.metadata.labels ?? {};
  return (
    isDeepStrictEqual((existing.spec?.endpoints ?? []).map(ownFields), desired.spec?.endpoints ?? []) &&
    Object.entries(desired.metadata.labels ?? {}).every(([key, value]) => labels[key] === value) &&
    isDeepStrictEqual(ownerUids(existing), ownerUids(desired))
  );
}

/** The desired object carrying over what an update must keep from the stored one (resourceVersion, others' labels and annotations). */
export function updatedDnsEndpoint(existing: DnsEndpoint, desired: DnsEndpoint): DnsEndpoint {
  return {
    ...desired,
    metadata: {
      ...existing.metadata,
      labels: { ...existing.metadata.labels, ...desired.metadata.labels },
      ownerReferences: [
        ...(existing.metadata.ownerReferences ?? []).filter((owner) => owner.kind !== SES_SETUP.kind || owner.apiVersion !== API_VERSION),
        ...(desired.metadata.ownerReferences ?? []),
      ],
    },
    status: existing.status,
  };
}

/** The endpoint fields the operator sets (a field another tool or a newer CRD adds does not count as a difference). */
function ownFields({ dnsName, recordType, recordTTL, targets }: Endpoint): Endpoint {
  return { dnsName, recordType, recordTTL, targets };
}

/** The UIDs of the SesSetups a DNSEndpoint names as its owners. */
export function ownerUids(endpoint: DnsEndpoint): string[] {
  return (endpoint.metadata.ownerReferences ?? [])
    .filter((owner) => owner.kind === SES_SETUP.kind && owner.apiVersion === API_VERSION)
    .map((owner) => owner.uid);
}

/** The operator made this DNSEndpoint for this very SesSetup (a setup recreated under the same name is another owner). */
export function ownedBy(endpoint: DnsEndpoint, uid: string | undefined): boolean {
  return uid !== undefined && ownerUids(endpoint).includes(uid);
}

/** external-dns has read this generation of the DNSEndpoint (it sets status.observedGeneration when it starts a sync with it). */
export function generationObserved(endpoint: DnsEndpoint): boolean {
  const generation = endpoint.metadata.generation;
  return generation !== undefined && endpoint.status?.observedGeneration === generation;
}

import type { SesSetup } from '../api/sessetup.ts';
import type { SetupDetail, SetupSummary } from './schemas.ts';

/** A SesSetup as the list shows it (the cached dns_verified, no records). */
export function summaryOf(setup: SesSetup): SetupSummary {
  const status = setup.status;
  const createdAt = setup.metadata.creationTimestamp ?? new Date(0).toISOString();
  // Kubernetes keeps no "updated" time: the latest moment the operator changed what the API shows.
  const times = [createdAt, status?.dnsCheckedAt, ...(status?.conditions ?? []).map((c) => c.lastTransitionTime)].filter(
    (t): t is string => typeof t === 'string' && t !== '',
  );
  return {
    id: setup.metadata.uid ?? '',
    name: setup.metadata.name,
    tenant_name: setup.spec.tenantName,
    domain_identity: setup.spec.domainIdentity,
    dns_verified: status?.dnsVerified === true,
    dns_checked_at: status?.dnsCheckedAt ?? null,
    created_at: createdAt,
    updated_at: times.reduce((latest, t) => (Date.parse(t) > Date.parse(latest) ? t : latest)),
    ready: status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    deleting: Boolean(setup.metadata.deletionTimestamp),
  };
}

/** The full detail: every record with its verified flag and message, and whether this answer is fresh. */
export function detailOf(setup: SesSetup, freshness: { refreshed: boolean; notice: string | null }): SetupDetail {
  return {
    ...summaryOf(setup),
    dns_records: (setup.status?.dnsRecords ?? []).map(({ purpose, type, name, value, verified, message }) => ({
      purpose,
      type,
      name,
      value,
      verified,
      message,
    })),
    ...freshness,
  };
}

import type { DnsRecord, SesSetup } from '../../../api/sessetup.ts';
import { isTrue } from '../../../runtime/conditions.ts';
import { ApiError } from '../../../runtime/kube-http.ts';
import { DNS_ENDPOINT_SELECTOR, dnsEndpointUpToDate, ownedBy, renderDnsEndpoint, updatedDnsEndpoint, type DnsEndpoint } from '../dns-endpoint.ts';
import { problemOf, type DnsEndpointAccess } from '../dns-endpoints.ts';
import type { Judgement, Step, StepResult } from '../step.ts';

/** How long a setup waits before looking again at a publication problem that only a person can fix (no hot loop). */
export const PUBLICATION_RETRY_MS = 15_000;
/** How long a setup waits for the DNSEndpoint watch's first LIST, started by its own first reconcile. */
const FIRST_LIST_WAIT_MS = 1_000;

/**
 * With dnsPublication ExternalDNS: one DNSEndpoint named after the setup holds every record of
 * status.dnsRecords, for external-dns to publish. Written only when the cached object differs, so
 * a steady state costs no API call; each record then says whether it was handed over (`published`).
 * With Manual: no DNSEndpoint (one left from ExternalDNS is deleted) and no `published` flags.
 */
export const publishStep: Step = {
  name: 'publish',
  async run({ setup, spec, facts, log }, { dnsEndpoints }) {
    const records = facts.dnsRecords;
    if (spec.dnsPublication !== 'ExternalDNS') return withdraw(setup, records, dnsEndpoints);
    if (!dnsEndpoints)
      return refused(records, {
        ok: false,
        reason: 'DnsEndpointNamespaceUnset',
        message:
          'the operator knows no namespace for DNSEndpoints: start it with --dns-endpoint-namespace (or POD_NAMESPACE), or set spec.dnsPublication to Manual',
      });
    const problem = dnsEndpoints.problem();
    // Right after a restart the watch has not listed yet: a setup published before stays published
    // until the cache can say otherwise (flipping it for that moment would write every such setup twice).
    if (problem?.transient && isTrue(setup.status?.conditions, 'DnsPublished')) return keptAsStored(setup, records);
    if (problem) return refused(records, { ok: false, reason: problem.reason, message: problem.message }, problem.transient ? FIRST_LIST_WAIT_MS : undefined);
    if (!records?.length) return { verdicts: { publication: { ok: false, reason: 'RecordsUnknown', message: 'no DNS records to publish yet' } } };

    const desired = renderDnsEndpoint(setup, dnsEndpoints.namespace, records);
    const existing = dnsEndpoints.get(setup.metadata.name);
    const where = `DNSEndpoint ${dnsEndpoints.namespace}/${setup.metadata.name}`;
    let happened: StepResult['happened'] = [];
    if (!existing || !dnsEndpointUpToDate(existing, desired)) {
      try {
        await write(dnsEndpoints, existing, desired);
      } catch (error) {
        const known = problemOf(error, dnsEndpoints.namespace);
        if (known) return refused(records, { ok: false, ...known });
        const taken = existing ? undefined : nameTaken(error, dnsEndpoints, setup.metadata.name);
        if (taken) return refused(records, taken);
        // A conflict or a server error: the work queue retries with backoff.
        return { learned: { dnsRecords: flagged(records, false) }, error };
      }
      log.info({ dnsEndpoint: where, records: records.length }, existing ? 'DNSEndpoint updated' : 'DNSEndpoint created');
      happened = [{ type: 'Normal', reason: 'Published', message: `${records.length} DNS records handed to external-dns in ${where}` }];
    }
    const verdict: Judgement = { ok: true, reason: 'Published', message: `${records.length} DNS records are in ${where} for external-dns to publish` };
    return { learned: { dnsRecords: flagged(records, true) }, verdicts: { publication: verdict }, happened };
  },
};

async function write(access: DnsEndpointAccess, existing: DnsEndpoint | undefined, desired: DnsEndpoint): Promise<void> {
  if (existing) await access.update(updatedDnsEndpoint(existing, desired));
  else await access.create(desired);
}

/**
 * A create refused with 409: an object of that name exists outside the operator's label (someone
 * else's), or the operator's own create has not reached the cache yet (its watch event then wakes
 * the setup at once and this clears).
 */
function nameTaken(error: unknown, access: DnsEndpointAccess, name: string): Judgement | undefined {
  if (!(error instanceof ApiError && error.code === 409)) return undefined;
  return {
    ok: false,
    reason: 'DnsEndpointConflict',
    message: `a DNSEndpoint ${access.namespace}/${name} exists without the label ${DNS_ENDPOINT_SELECTOR}: it is not this operator's; delete or rename it (or point --dns-endpoint-namespace elsewhere)`,
  };
}

/** Publication cannot happen now: say why and look again later (a person has to act). */
function refused(records: DnsRecord[] | undefined, verdict: Judgement, retryMs = PUBLICATION_RETRY_MS): StepResult {
  return { learned: records ? { dnsRecords: flagged(records, false) } : {}, verdicts: { publication: verdict }, requeueAfterMs: retryMs };
}

/** Manual: nothing of ours stays in external-dns's hands. */
async function withdraw(setup: SesSetup, records: DnsRecord[] | undefined, access: DnsEndpointAccess | undefined): Promise<StepResult> {
  const result: StepResult = { verdicts: { publication: 'absent' } };
  if (records?.some((record) => record.published !== undefined)) result.learned = { dnsRecords: records.map(({ published: _, ...record }) => record) };
  // Only where a cache says there is one: a Manual setup never starts the DNSEndpoint watch.
  const name = setup.metadata.name;
  const endpoint = access?.get(name);
  if (access && endpoint && ownedBy(endpoint, setup.metadata.uid)) {
    await access.delete(name, endpoint.metadata.uid);
    result.happened = [{ type: 'Normal', reason: 'Unpublished', message: `dnsPublication is Manual: DNSEndpoint ${access.namespace}/${name} deleted` }];
  }
  return result;
}

/** Each record flagged as status last said (records new since then are not published yet); the condition is left as it is. */
function keptAsStored(setup: SesSetup, records: DnsRecord[] | undefined): StepResult {
  const key = (record: DnsRecord) => `${record.type} ${record.name.toLowerCase()} ${record.value}`;
  const published = new Set((setup.status?.dnsRecords ?? []).filter((record) => record.published).map(key));
  return {
    learned: records ? { dnsRecords: records.map((record) => ({ ...record, published: published.has(key(record)) })) } : {},
    requeueAfterMs: FIRST_LIST_WAIT_MS,
  };
}

function flagged(records: DnsRecord[], published: boolean): DnsRecord[] {
  return records.map((record) => ({ ...record, published }));
}

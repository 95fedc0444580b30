import type { DnsRecord } from '../../../api/sessetup.ts';
import { ApiError } from '../../../runtime/kube-http.ts';
import { dnsEndpointUpToDate, renderDnsEndpoint, updatedDnsEndpoint, type DnsEndpoint } from '../dns-endpoint.ts';
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
    if (spec.dnsPublication !== 'ExternalDNS') return withdraw(setup.metadata.name, records, dnsEndpoints);
    if (!dnsEndpoints)
      return refused(records, {
        ok: false,
        reason: 'DnsEndpointNamespaceUnset',
        message:
          'the operator knows no namespace for DNSEndpoints: start it with --dns-endpoint-namespace (or POD_NAMESPACE), or set spec.dnsPublication to Manual',
      });
    const problem = dnsEndpoints.problem();
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
  if (existing) {
    await access.update(updatedDnsEndpoint(existing, desired));
    return;
  }
  try {
    await access.create(desired);
  } catch (error) {
    // Created by an earlier pass whose event has not reached the cache yet: the retry updates it from the cache.
    if (error instanceof ApiError && error.code === 409)
      throw new Error(`${desired.kind} ${desired.metadata.namespace}/${desired.metadata.name} exists but is not in the cache yet; retrying`);
    throw error;
  }
}

/** Publication cannot happen now: say why and look again later (a person has to act). */
function refused(records: DnsRecord[] | undefined, verdict: Judgement, retryMs = PUBLICATION_RETRY_MS): StepResult {
  return { learned: records ? { dnsRecords: flagged(records, false) } : {}, verdicts: { publication: verdict }, requeueAfterMs: retryMs };
}

/** Manual: nothing of ours stays in external-dns's hands. */
async function withdraw(name: string, records: DnsRecord[] | undefined, access: DnsEndpointAccess | undefined): Promise<StepResult> {
  const result: StepResult = { verdicts: { publication: 'absent' } };
  if (records?.some((record) => record.published !== undefined)) result.learned = { dnsRecords: records.map(({ published: _, ...record }) => record) };
  // Only where a cache says there is one: a Manual setup never starts the DNSEndpoint watch.
  if (access && access.get(name)) {
    await access.delete(name);
    result.happened = [{ type: 'Normal', reason: 'Unpublished', message: `dnsPublication is Manual: DNSEndpoint ${access.namespace}/${name} deleted` }];
  }
  return result;
}

function flagged(records: DnsRecord[], published: boolean): DnsRecord[] {
  return records.map((record) => ({ ...record, published }));
}

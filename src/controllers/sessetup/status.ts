import type { Condition } from '../../api/conditions.ts';
import type { DnsRecord, SesSetupStatus } from '../../api/sessetup.ts';
import { removeCondition, setCondition } from '../../runtime/conditions.ts';
import { markReconciling, markSettled, markStalled } from '../kstatus.ts';
import type { Judgement, Verdicts } from './step.ts';

/** The steps' verdicts on tenant and identity (both judged), and what stalls the setup, if anything. */
export interface Verdict {
  tenant: Judgement;
  identity: Judgement;
  /** The custom MAIL FROM domain's; undefined without spec.mailFrom (no MailFromReady condition). */
  mailFrom?: Judgement;
  stalled?: Verdicts['stalled'];
  /** DnsPublished: judged with dnsPublication ExternalDNS, `absent` with Manual, undefined when no step got that far (kept as it was). */
  publication?: Verdicts['publication'];
}

/**
 * The conditions, from the facts: TenantReady, IdentityReady, DnsVerified, MailFromReady (with
 * spec.mailFrom), Ready, and the kstatus pair Reconciling/Stalled (present only while true, as
 * kstatus expects).
 */
export function composeConditions(
  previous: readonly Condition[] | undefined,
  verdict: Verdict,
  records: DnsRecord[] | undefined,
  generation: number | undefined,
  now: string,
): Condition[] {
  const g = generation === undefined ? {} : { observedGeneration: generation };
  let conditions = removeCondition(previous, 'DeletionBlocked');
  const status = (ok: boolean) => (ok ? 'True' : 'False') as 'True' | 'False';
  conditions = setCondition(
    conditions,
    { type: 'TenantReady', status: status(verdict.tenant.ok), reason: verdict.tenant.reason, message: verdict.tenant.message, ...g },
    now,
  );
  conditions = setCondition(
    conditions,
    { type: 'IdentityReady', status: status(verdict.identity.ok), reason: verdict.identity.reason, message: verdict.identity.message, ...g },
    now,
  );
  const dns = dnsSummary(records);
  conditions = setCondition(conditions, { type: 'DnsVerified', status: dns.status, reason: dns.reason, message: dns.message, ...g }, now);
  const publication = verdict.publication;
  if (publication === 'absent') conditions = removeCondition(conditions, 'DnsPublished');
  else if (publication)
    conditions = setCondition(
      conditions,
      { type: 'DnsPublished', status: status(publication.ok), reason: publication.reason, message: publication.message, ...g },
      now,
    );

  // Records that cannot verify because they cannot be published: the publication problem is what a person must fix.
  const unpublished = publication && publication !== 'absent' && !publication.ok ? publication : undefined;
  const mailFrom = verdict.mailFrom;
  conditions = mailFrom
    ? setCondition(conditions, { type: 'MailFromReady', status: status(mailFrom.ok), reason: mailFrom.reason, message: mailFrom.message, ...g }, now)
    : removeCondition(conditions, 'MailFromReady');

  const ready = verdict.tenant.ok && verdict.identity.ok && dns.status === 'True' && (mailFrom?.ok ?? true);
  // When only the MAIL FROM records are unverified, MailFromReady's reason says more than the record count.
  const onlyMailFromUnverified = mailFrom && !mailFrom.ok && records?.every((record) => record.verified || record.purpose === 'MAIL_FROM');
  const blocker = !verdict.tenant.ok
    ? verdict.tenant
    : !verdict.identity.ok
      ? verdict.identity
      : dns.status !== 'True' && (unpublished || !onlyMailFromUnverified)
        ? (unpublished ?? dns)
        : mailFrom!;
  const readyMessage = mailFrom
    ? 'tenant and identity exist, every DNS record is verified and SES sends with the custom MAIL FROM domain'
    : 'tenant and identity exist and every DNS record is verified';
  conditions = setCondition(
    conditions,
    ready
      ? { type: 'Ready', status: 'True', reason: 'Ready', message: readyMessage, ...g }
      : { type: 'Ready', status: 'False', reason: blocker.reason, message: blocker.message, ...g },
    now,
  );
  if (verdict.stalled) return markStalled(conditions, { ...verdict.stalled, ...g }, now);
  return ready ? markSettled(conditions) : markReconciling(conditions, { reason: blocker.reason, message: blocker.message, ...g }, now);
}

function dnsSummary(records: DnsRecord[] | undefined): { status: 'True' | 'False' | 'Unknown'; reason: string; message: string; ok: boolean } {
  if (!records || records.length === 0) {
    return { status: 'Unknown', reason: 'RecordsUnknown', message: 'DNS records are not known yet', ok: false };
  }
  const pending = records.filter((record) => !record.verified);
  if (pending.length === 0) return { status: 'True', reason: 'RecordsVerified', message: `all ${records.length} records verified`, ok: true };
  // One short clause per distinct problem; status.dnsRecords carries the full, per-record message.
  const problems = new Map<string, number>();
  for (const record of pending) {
    const problem = `${record.purpose}: ${record.message.split(/[:;(]/)[0]!.trim()}`;
    problems.set(problem, (problems.get(problem) ?? 0) + 1);
  }
  const detail = [...problems].map(([problem, count]) => (count > 1 ? `${problem} (x${count})` : problem)).join('; ');
  return {
    status: 'False',
    reason: 'RecordsNotVerified',
    message: `${pending.length} of ${records.length} DNS records not verified (${detail}); see status.dnsRecords for what to publish`,
    ok: false,
  };
}

/** status.dnsVerified: every record verified (the REST API's dns_verified). */
export function allVerified(records: DnsRecord[] | undefined): boolean {
  return !!records && records.length > 0 && records.every((record) => record.verified);
}

export type { SesSetupStatus };

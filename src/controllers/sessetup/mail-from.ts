import { VERIFY_ANNOTATION } from '../../api/group.ts';
import type { DnsRecord, SesSetupSpec, SesSetupStatus } from '../../api/sessetup.ts';
import { awaitsSesOnly } from '../../dns/verify-records.ts';
import type { SesIdentity } from '../../ses/gateway.ts';
import type { Happening, Judgement } from './step.ts';

/** The custom MAIL FROM domain as status records it set in SES. */
export type AppliedMailFrom = NonNullable<SesSetupStatus['mailFrom']>;
type WantedMailFrom = SesSetupSpec['mailFrom'];

/** spec.mailFrom asks for exactly what status records as set in SES (both absent counts as the same). */
export function sameMailFrom(want: WantedMailFrom, have: AppliedMailFrom | undefined): boolean {
  if (!want || !have) return !want && !have;
  return want.domain === have.domain && want.behaviorOnMxFailure === have.behaviorOnMxFailure;
}

/**
 * What a GetEmailIdentity says about the MAIL FROM domain status records as set: its
 * MailFromDomainStatus, and an Event when that changed. A different domain in SES (changed in
 * the console, or a write SES does not show yet) drops the fact, so the mailFrom step sets
 * spec.mailFrom again on the next pass: either way SES ends up with what spec asks for.
 */
export function readMailFrom(
  have: AppliedMailFrom | undefined,
  fresh: SesIdentity,
): { mailFrom: AppliedMailFrom | undefined; happened: Happening[]; changedInSes: boolean } {
  if (!have) return { mailFrom: undefined, happened: [], changedInSes: false };
  const seen = fresh.mailFrom;
  if (seen?.domain?.toLowerCase().replace(/\.$/, '') !== have.domain) {
    const message = `SES identity ${fresh.name} has MAIL FROM domain ${seen?.domain ?? '(none)'}, not ${have.domain} as the operator set it; setting spec.mailFrom again`;
    return { mailFrom: undefined, happened: [{ type: 'Warning', reason: 'MailFromChanged', message }], changedInSes: true };
  }
  const status = seen.status;
  const happened: Happening[] = [];
  if (status !== have.status) {
    if (status === 'SUCCESS') happened.push({ type: 'Normal', reason: 'MailFromVerified', message: `SES verified MAIL FROM domain ${have.domain}` });
    if (status === 'FAILED') happened.push({ type: 'Warning', reason: 'MailFromFailed', message: `SES reports MAIL FROM domain ${have.domain} FAILED` });
    if (status === 'TEMPORARY_FAILURE')
      happened.push({ type: 'Warning', reason: 'MailFromTemporaryFailure', message: `SES reports MAIL FROM domain ${have.domain} TEMPORARY_FAILURE` });
  }
  const mailFrom = { domain: have.domain, behaviorOnMxFailure: have.behaviorOnMxFailure, ...(status ? { status } : {}) };
  return { mailFrom, happened, changedInSes: false };
}

/**
 * The MailFromReady verdict, from spec.mailFrom, what status records as set in SES and the two
 * MAIL_FROM records; undefined without spec.mailFrom (no condition then).
 */
export function judgeMailFrom(want: WantedMailFrom, have: AppliedMailFrom | undefined, records: DnsRecord[] | undefined): Judgement | undefined {
  if (!want) return undefined;
  const domain = want.domain;
  if (!have || have.domain !== domain) return { ok: false, reason: 'MailFromNotSet', message: `MAIL FROM domain ${domain} is not set in SES yet` };
  const mine = (records ?? []).filter((record) => record.purpose === 'MAIL_FROM' && record.name === domain);
  const [mx, txt] = [mine.find((record) => record.type === 'MX'), mine.find((record) => record.type === 'TXT')];
  const publish = `publish MX ${domain} -> ${mx?.value ?? '10 feedback-smtp.<region>.amazonses.com'} and TXT ${domain} "${txt?.value ?? 'v=spf1 include:amazonses.com ~all'}"`;
  const meanwhile =
    have.behaviorOnMxFailure === 'RejectMessage'
      ? 'until then SES refuses to send from this identity (behaviorOnMxFailure RejectMessage)'
      : 'until then SES sends with its default amazonses.com MAIL FROM (behaviorOnMxFailure UseDefaultValue)';
  switch (have.status) {
    case 'SUCCESS': {
      if (mine.length === 2 && mine.every((record) => record.verified)) {
        return { ok: true, reason: 'MailFromVerified', message: `SES sends with MAIL FROM domain ${domain}; its MX and SPF records are verified` };
      }
      const problem = mine.find((record) => !record.verified)?.message ?? 'not checked yet';
      return {
        ok: false,
        reason: 'MailFromRecordsNotVerified',
        message: `SES verified MAIL FROM domain ${domain}, but its records no longer check out (${problem}); ${publish}, or SES reports TEMPORARY_FAILURE and then FAILED`,
      };
    }
    case 'FAILED':
      return {
        ok: false,
        reason: 'MailFromFailed',
        message:
          `SES gave up verifying MAIL FROM domain ${domain} (FAILED) and no longer checks it; ${meanwhile}. ` +
          `${capitalized(publish)}, then request a verify (ses-operator verify, or a new ${VERIFY_ANNOTATION} annotation): the operator sets the domain in SES again and SES starts over`,
      };
    case 'TEMPORARY_FAILURE':
      return {
        ok: false,
        reason: 'MailFromTemporaryFailure',
        message:
          `SES could not read the MAIL FROM records of ${domain} lately (TEMPORARY_FAILURE) and keeps retrying; ${meanwhile}. ` +
          `Check that they are still published (${publish}): if they stay missing, SES marks the domain FAILED`,
      };
    default: {
      const state = have.status ?? 'not read yet';
      if (mine.length === 2 && mine.every(awaitsSesOnly)) {
        return {
          ok: false,
          reason: 'MailFromPending',
          message: `the MX and SPF records of MAIL FROM domain ${domain} are published; SES has not confirmed them yet (${state}; it re-checks on its own schedule); ${meanwhile}`,
        };
      }
      return {
        ok: false,
        reason: 'MailFromPending',
        message: `SES waits for the MAIL FROM records of ${domain} (${state}): ${publish}; status.dnsRecords says what DNS answers now; ${meanwhile}`,
      };
    }
  }
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

import type { DnsRecord } from '../api/sessetup.ts';
import type { DesiredRecord } from './desired-records.ts';
import { normalizeName, type DnsLookup, type LookupOptions, type LookupResult } from './lookup.ts';

/** One live lookup per desired record, all at once. */
export function lookupRecords(desired: DesiredRecord[], dns: DnsLookup, options?: LookupOptions): Promise<LookupResult[]> {
  return Promise.all(desired.map((record) => dns.lookup(record.type, record.name, options)));
}

/** True when every DKIM CNAME is live and right: only then can SES's own check succeed. */
export function dkimLive(desired: DesiredRecord[], results: LookupResult[]): boolean {
  return liveFor('DKIM', desired, results);
}

/** True when the MAIL FROM MX and SPF TXT are both live and right (false without spec.mailFrom). */
export function mailFromLive(desired: DesiredRecord[], results: LookupResult[]): boolean {
  return desired.some((record) => record.purpose === 'MAIL_FROM') && liveFor('MAIL_FROM', desired, results);
}

function liveFor(purpose: DesiredRecord['purpose'], desired: DesiredRecord[], results: LookupResult[]): boolean {
  return desired.every((record, index) => record.purpose !== purpose || judge(record, results[index]!).ok);
}

/** SES's own verdicts on the records it checks itself. */
export interface SesView {
  dkimStatus?: string;
  mailFromStatus?: string;
}

/**
 * Says, per record, whether it is right and if not why, in words a person can act on.
 * DKIM and MAIL FROM need both: the records live, and SES's own status SUCCESS (only then does
 * SES sign, or send with the custom MAIL FROM domain). A plain status string is the DKIM status.
 */
export function assessRecords(desired: DesiredRecord[], results: LookupResult[], ses: SesView | string | undefined): DnsRecord[] {
  const view: SesView = typeof ses === 'object' ? ses : { dkimStatus: ses };
  return desired.map((record, index) => {
    const result = results[index]!;
    const observed = result.ok ? result.answers.slice(0, 16) : [];
    const live = judge(record, result);
    let verified = live.ok;
    let message = live.message;
    if (record.purpose === 'DKIM' && isLapse(view.dkimStatus)) {
      // SES saw this domain verified once and no longer can: say so, whatever the live lookup finds.
      verified = false;
      message = lapseMessage(view.dkimStatus!, live);
    } else if (record.purpose === 'DKIM' && live.ok && view.dkimStatus !== 'SUCCESS') {
      verified = false;
      message = sesDkimMessage(view.dkimStatus);
    }
    if (record.purpose === 'MAIL_FROM' && live.ok && view.mailFromStatus !== 'SUCCESS') {
      verified = false;
      message = sesMailFromMessage(view.mailFromStatus);
    }
    return { ...record, verified, observed, message };
  });
}

/** The record is right in DNS, and only SES's own confirmation is missing. */
export function awaitsSesOnly(record: DnsRecord): boolean {
  return !record.verified && record.message.startsWith(PUBLISHED);
}

function judge(record: DesiredRecord, result: LookupResult): { ok: boolean; message: string } {
  if (!result.ok) return { ok: false, message: failureMessage(record, result.failure, result.detail) };
  if (record.type === 'CNAME') {
    const want = normalizeName(record.value);
    if (result.answers.includes(want)) return { ok: true, message: '' };
    return { ok: false, message: `wrong target: ${record.name} points to ${result.answers.join(', ')}, expected ${want}` };
  }
  if (record.type === 'MX') return judgeMx(record, result.answers, { alone: record.purpose === 'MAIL_FROM' });
  if (record.purpose === 'MAIL_FROM') return judgeSpf(record, result.answers);
  return judgeDmarc(record, result.answers);
}

/**
 * Mail goes to the MX with the lowest preference value first, and senders pick at random among
 * hosts that share it (RFC 5321 5.1). So the expected host counts only when it alone holds the
 * lowest value: a lower one elsewhere receives the mail, and a tie sends part of it elsewhere.
 * `alone`: no other MX at all, as SES's guide asks of a custom MAIL FROM domain.
 */
function judgeMx(record: DesiredRecord, answers: string[], { alone }: { alone: boolean }): { ok: boolean; message: string } {
  const host = normalizeName(record.value.split(/\s+/)[1] ?? '');
  const mx = answers.map(parseMx);
  const ours = mx.filter((entry) => entry.host === host);
  if (ours.length === 0) return { ok: false, message: `wrong MX: found ${answers.join(', ')}, expected ${record.value}` };
  const others = [...new Set(mx.filter((entry) => entry.host !== host).map((entry) => entry.host))];
  if (alone && others.length > 0) {
    const records = others.length === 1 ? 'another MX record' : 'other MX records';
    return {
      ok: false,
      message: `${records} at ${record.name} (${others.join(', ')}): SES needs ${host} to be the only MX of a MAIL FROM domain; remove ${others.length === 1 ? 'it' : 'them'}`,
    };
  }
  const ourPreference = Math.min(...ours.map((entry) => entry.preference));
  const lowest = Math.min(...mx.map((entry) => entry.preference));
  const rivals = [...new Set(mx.filter((entry) => entry.host !== host && entry.preference === lowest).map((entry) => entry.host))];
  const named = `${rivals.join(', ')} ${rivals.length === 1 ? 'has' : 'have'}`;
  const them = rivals.length === 1 ? 'it' : 'them';
  if (lowest < ourPreference) {
    return {
      ok: false,
      message:
        `another MX receives the mail first: ${named} preference ${lowest}, lower than ${ourPreference} for ${host}; ` +
        `remove ${them} or give ${host} the lowest preference value`,
    };
  }
  if (rivals.length > 0) {
    return {
      ok: false,
      message:
        `MX preference tie: ${named} the same preference ${lowest} as ${host}, and senders pick at random among equal preferences, ` +
        `so part of the mail would not reach SES; remove ${them} or give ${them} a higher value`,
    };
  }
  return { ok: true, message: '' };
}

/** "10 host" as the lookup returns it; an unreadable preference sorts last. */
function parseMx(answer: string): { preference: number; host: string } {
  const [preference, host] = answer.split(/\s+/);
  const value = preference ? Number(preference) : Number.NaN;
  return { preference: Number.isFinite(value) ? value : Number.POSITIVE_INFINITY, host: normalizeName(host ?? '') };
}

function judgeDmarc(record: DesiredRecord, answers: string[]): { ok: boolean; message: string } {
  const dmarc = answers.filter((text) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(text));
  if (dmarc.length === 0) return { ok: false, message: `no DMARC record at ${record.name} (${foundTxt(answers)}); publish TXT "${record.value}"` };
  if (dmarc.length > 1)
    return { ok: false, message: `${dmarc.length} DMARC records at ${record.name}: receivers ignore all of them; keep only "${record.value}"` };
  const found = dmarcTags(dmarc[0]!);
  const want = dmarcTags(record.value);
  for (const [tag, value] of want) {
    if (tag === 'v') continue;
    if ((found.get(tag) ?? '').toLowerCase() !== value.toLowerCase()) {
      return { ok: false, message: `DMARC ${tag}= is "${found.get(tag) ?? ''}", expected "${value}" (found "${dmarc[0]}")` };
    }
  }
  return { ok: true, message: '' };
}

/**
 * One SPF record (RFC 7208 4.5: two make SPF fail) holding every mechanism asked for; others may
 * stand beside them, and the `all` qualifier is the domain owner's choice.
 */
function judgeSpf(record: DesiredRecord, answers: string[]): { ok: boolean; message: string } {
  const spf = answers.filter((text) => /^v=spf1(\s|$)/i.test(text.trim()));
  if (spf.length === 0) return { ok: false, message: `no SPF record at ${record.name} (${foundTxt(answers)}); publish TXT "${record.value}"` };
  if (spf.length > 1) {
    return { ok: false, message: `${spf.length} SPF records at ${record.name}: receivers treat that as an error and SPF fails; keep only "${record.value}"` };
  }
  const terms = new Set(spf[0]!.trim().toLowerCase().split(/\s+/));
  const missing = record.value
    .split(/\s+/)
    .slice(1)
    .filter((term) => !/all$/i.test(term) && !terms.has(term.toLowerCase()));
  if (missing.length > 0)
    return { ok: false, message: `SPF record at ${record.name} lacks ${missing.join(' ')} (found "${spf[0]}"); publish TXT "${record.value}"` };
  return { ok: true, message: '' };
}

function foundTxt(answers: string[]): string {
  return answers.length ? `found only ${answers.map((a) => JSON.stringify(a)).join(', ')}` : 'no TXT record';
}

/** DMARC tag=value pairs; order and spacing do not matter to receivers, so they do not matter here. */
function dmarcTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const [tag, ...rest] = part.split('=');
    if (tag?.trim() && rest.length) tags.set(tag.trim().toLowerCase(), rest.join('=').trim());
  }
  return tags;
}

function failureMessage(record: DesiredRecord, failure: string, detail: string): string {
  switch (failure) {
    case 'NXDOMAIN':
      return `NXDOMAIN: ${record.name} does not exist; publish ${record.type} ${record.name} -> ${record.value}`;
    case 'NODATA':
      return `no ${record.type} record at ${record.name}; publish ${record.type} ${record.value}`;
    case 'SERVFAIL':
      return `DNS lookup failed (SERVFAIL) for ${record.name}; will retry`;
    case 'TIMEOUT':
      return `DNS lookup timed out for ${record.name}; will retry`;
    case 'REFUSED':
      return `the DNS server refused to answer for ${record.name}; will retry`;
    case 'UNREACHABLE':
      return `no DNS server reachable for ${record.name}; will retry`;
    default:
      return `DNS lookup failed for ${record.name}: ${detail}; will retry`;
  }
}

/** How every "right in DNS, SES not yet" message starts. */
const PUBLISHED = 'published';

function isLapse(status: string | undefined): boolean {
  return status === 'TEMPORARY_FAILURE' || status === 'FAILED';
}

function lapseMessage(status: string, live: { ok: boolean; message: string }): string {
  const fix = live.ok ? 'it is published correctly now' : `fix it: ${live.message}`;
  if (status === 'FAILED') {
    return (
      `SES reports DKIM FAILED: it could not read the DKIM records and stopped checking, so the domain is not verified for sending; ${fix}, ` +
      'then retry its DKIM verification in the SES console (or delete the identity in SES: this SesSetup creates it again, with new DKIM tokens)'
    );
  }
  return (
    `SES reports DKIM TEMPORARY_FAILURE: it can no longer read the DKIM records, and the domain is not verified for sending until it can; ${fix} ` +
    '(SES keeps retrying for a while, then gives up with FAILED)'
  );
}

/** A published record SES has not verified yet (the lapses have their own message). */
function sesDkimMessage(status: string | undefined): string {
  return `${PUBLISHED}; SES still ${status ?? 'has not reported'} DKIM verification (it re-checks on its own schedule)`;
}

function sesMailFromMessage(status: string | undefined): string {
  if (status === 'FAILED') return `${PUBLISHED}, but SES reports MAIL FROM FAILED: it stopped checking; request a verify to make SES start over`;
  if (status === 'TEMPORARY_FAILURE') return `${PUBLISHED}; SES reports MAIL FROM TEMPORARY_FAILURE (it could not read the records lately) and will retry`;
  if (status === undefined) return `${PUBLISHED}; SES has not reported MAIL FROM verification yet`;
  return `${PUBLISHED}; SES still ${status} MAIL FROM verification (it re-checks on its own schedule)`;
}

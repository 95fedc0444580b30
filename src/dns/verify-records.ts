import type { DnsRecord } from '../api/sessetup.ts';
import type { DesiredRecord } from './desired-records.ts';
import { normalizeName, type DnsLookup, type LookupOptions, type LookupResult } from './lookup.ts';

/** One live lookup per desired record, all at once. */
export function lookupRecords(desired: DesiredRecord[], dns: DnsLookup, options?: LookupOptions): Promise<LookupResult[]> {
  return Promise.all(desired.map((record) => dns.lookup(record.type, record.name, options)));
}

/** True when every DKIM CNAME is live and right: only then can SES's own check succeed. */
export function dkimLive(desired: DesiredRecord[], results: LookupResult[]): boolean {
  return desired.every((record, index) => record.purpose !== 'DKIM' || judge(record, results[index]!).ok);
}

/**
 * Says, per record, whether it is right and if not why, in words a person can act on.
 * DKIM needs both: the CNAME live, and SES's own DKIM status.
 */
export function assessRecords(desired: DesiredRecord[], results: LookupResult[], sesDkimStatus: string | undefined): DnsRecord[] {
  return desired.map((record, index) => {
    const result = results[index]!;
    const observed = result.ok ? result.answers.slice(0, 16) : [];
    const live = judge(record, result);
    let verified = live.ok;
    let message = live.message;
    if (record.purpose === 'DKIM' && isLapse(sesDkimStatus)) {
      // SES saw this domain verified once and no longer can: say so, whatever the live lookup finds.
      verified = false;
      message = lapseMessage(sesDkimStatus!, live);
    } else if (record.purpose === 'DKIM' && live.ok && sesDkimStatus !== 'SUCCESS') {
      verified = false;
      message = sesDkimMessage(sesDkimStatus);
    }
    return { ...record, verified, observed, message };
  });
}

function judge(record: DesiredRecord, result: LookupResult): { ok: boolean; message: string } {
  if (!result.ok) return { ok: false, message: failureMessage(record, result.failure, result.detail) };
  if (record.type === 'CNAME') {
    const want = normalizeName(record.value);
    if (result.answers.includes(want)) return { ok: true, message: '' };
    return { ok: false, message: `wrong target: ${record.name} points to ${result.answers.join(', ')}, expected ${want}` };
  }
  if (record.type === 'MX') return judgeMx(record, result.answers);
  return judgeDmarc(record, result.answers);
}

/**
 * Mail goes to the MX with the lowest preference value first, and senders pick at random among
 * hosts that share it (RFC 5321 5.1). So the expected host counts only when it alone holds the
 * lowest value: a lower one elsewhere receives the mail, and a tie sends part of it elsewhere.
 */
function judgeMx(record: DesiredRecord, answers: string[]): { ok: boolean; message: string } {
  const host = normalizeName(record.value.split(/\s+/)[1] ?? '');
  const mx = answers.map(parseMx);
  const ours = mx.filter((entry) => entry.host === host);
  if (ours.length === 0) return { ok: false, message: `wrong MX: found ${answers.join(', ')}, expected ${record.value}` };
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
  if (dmarc.length === 0) {
    const found = answers.length ? `found only ${answers.map((a) => JSON.stringify(a)).join(', ')}` : 'no TXT record';
    return { ok: false, message: `no DMARC record at ${record.name} (${found}); publish TXT "${record.value}"` };
  }
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
  return `published; SES still ${status ?? 'has not reported'} DKIM verification (it re-checks on its own schedule)`;
}

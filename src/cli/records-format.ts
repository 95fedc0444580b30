import type { DnsRecord } from '../api/sessetup.ts';
import { quotedStrings } from '../dns/txt-strings.ts';
import { recordsTable } from './records-table.ts';

export const RECORD_FORMATS = ['table', 'bind', 'json', 'csv'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];

/** What every format prints: the setup's records as its status lists them, and where they came from. */
export interface RecordsDocument {
  name: string;
  domain: string;
  dnsVerified: boolean;
  records: DnsRecord[];
}

/** The records in the chosen format, ending in a newline. `ttl` (seconds) goes into the bind and json forms. */
export function formatRecords(doc: RecordsDocument, format: RecordFormat, ttl: number): string {
  switch (format) {
    case 'table':
      return `${recordsTable(doc.records)}\n`;
    case 'bind':
      return zoneFragment(doc, ttl);
    case 'json':
      return `${JSON.stringify(
        {
          name: doc.name,
          domain: doc.domain,
          dnsVerified: doc.dnsVerified,
          records: doc.records.map((r) => ({ purpose: r.purpose, type: r.type, name: r.name, value: r.value, ttl, verified: r.verified })),
        },
        null,
        2,
      )}\n`;
    case 'csv':
      return csv([['purpose', 'type', 'name', 'value', 'verified'], ...doc.records.map((r) => [r.purpose, r.type, r.name, r.value, String(r.verified)])]);
  }
}

/**
 * A zone-file fragment (RFC 1035 master file syntax) to paste into any DNS host that takes one:
 * absolute names, so it means the same whatever $ORIGIN the zone has.
 */
export function zoneFragment(doc: RecordsDocument, ttl: number): string {
  const header = [`; SesSetup ${doc.name}: the DNS records Amazon SES needs for ${doc.domain}`, '; paste into the zone that holds these names'];
  const lines = doc.records.map((r) => `${absolute(r.name)}\t${ttl}\tIN\t${r.type}\t${recordData(r)}\t; ${r.purpose}`);
  return `${[...header, ...lines].join('\n')}\n`;
}

/** A record's data as a zone file writes it: absolute host names, MX preference, TXT quoted and split. */
export function recordData(record: Pick<DnsRecord, 'type' | 'value'>): string {
  switch (record.type) {
    case 'CNAME':
      return absolute(record.value);
    case 'MX': {
      const [preference, exchange, ...rest] = record.value.trim().split(/\s+/);
      if (!preference || !exchange || rest.length > 0 || !/^\d+$/.test(preference))
        throw new Error(`MX value must be "<preference> <host>", got "${record.value}"`);
      return `${preference} ${absolute(exchange)}`;
    }
    case 'TXT':
      return quotedStrings(record.value);
  }
}

function absolute(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** RFC 4180: quote a field holding a comma, quote or line break, doubling its quotes. */
function csv(rows: string[][]): string {
  const field = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return rows.map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

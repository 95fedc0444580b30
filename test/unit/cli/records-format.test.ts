import { describe, expect, it } from 'vitest';
import type { DnsRecord } from '../../../src/api/sessetup.ts';
import { formatRecords, zoneFragment, type RecordsDocument } from '../../../src/cli/records-format.ts';
import { quotedStrings } from '../../../src/dns/txt-strings.ts';

const record = (purpose: DnsRecord['purpose'], type: DnsRecord['type'], name: string, value: string): DnsRecord => ({
  purpose,
  type,
  name,
  value,
  verified: false,
  observed: [],
  message: 'NXDOMAIN',
});

const doc: RecordsDocument = {
  name: 'acme-mail',
  domain: 'mail.acme.test',
  dnsVerified: false,
  records: [
    record('DKIM', 'CNAME', 'tok1._domainkey.mail.acme.test', 'tok1.dkim.amazonses.com'),
    record('MX', 'MX', 'mail.acme.test', '10 inbound-smtp.eu-west-1.amazonaws.com'),
    record('DMARC', 'TXT', '_dmarc.mail.acme.test', 'v=DMARC1; p=quarantine; rua=mailto:"dmarc"@acme.test;'),
  ],
};

describe('records formats', () => {
  it('bind: absolute names, the TTL, MX preference, TXT quoted with its semicolons and quotes intact', () => {
    expect(
      zoneFragment(doc, 600)
        .split('\n')
        .filter((line) => !line.startsWith(';')),
    ).toEqual([
      'tok1._domainkey.mail.acme.test.\t600\tIN\tCNAME\ttok1.dkim.amazonses.com.\t; DKIM',
      'mail.acme.test.\t600\tIN\tMX\t10 inbound-smtp.eu-west-1.amazonaws.com.\t; MX',
      '_dmarc.mail.acme.test.\t600\tIN\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:\\"dmarc\\"@acme.test;"\t; DMARC',
      '',
    ]);
  });

  it('splits TXT into strings of at most 255 bytes without cutting a character', () => {
    const text = `v=DMARC1; p=none; rua=mailto:${'é'.repeat(200)}@acme.test`;
    const strings = [...quotedStrings(text).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    expect(strings.length).toBe(2);
    expect(strings.every((s) => Buffer.byteLength(s) <= 255)).toBe(true);
    expect(strings.join('')).toBe(text);
    expect(quotedStrings('')).toBe('""');
  });

  it('refuses an MX value without a numeric preference instead of printing a broken zone', () => {
    expect(() => zoneFragment({ ...doc, records: [record('MX', 'MX', 'mail.acme.test', 'inbound-smtp.example')] }, 300)).toThrow(/<preference> <host>/);
  });

  it('csv quotes fields holding commas and quotes; json carries the TTL', () => {
    const csv = formatRecords(doc, 'csv', 300).split('\r\n');
    expect(csv[0]).toBe('purpose,type,name,value,verified');
    expect(csv[3]).toBe('DMARC,TXT,_dmarc.mail.acme.test,"v=DMARC1; p=quarantine; rua=mailto:""dmarc""@acme.test;",false');
    const json = JSON.parse(formatRecords(doc, 'json', 300)) as { records: { ttl: number; value: string }[] };
    expect(json).toMatchObject({ name: 'acme-mail', domain: 'mail.acme.test', dnsVerified: false });
    expect(json.records.map((r) => r.ttl)).toEqual([300, 300, 300]);
    expect(formatRecords(doc, 'table', 300)).toMatch(/^PURPOSE\s+TYPE\s+NAME\s+VALUE\s+VERIFIED\s+DETAIL\n/);
  });
});

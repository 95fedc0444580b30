import { describe, expect, it } from 'vitest';
import { desiredRecords } from '../../../src/dns/desired-records.ts';
import type { LookupResult } from '../../../src/dns/lookup.ts';
import { assessRecords, dkimLive } from '../../../src/dns/verify-records.ts';

const desired = desiredRecords({ domainIdentity: 'mail.acme.test', dmarc: { policy: 'quarantine', reportingAddress: 'mailto:d@acme.test' } }, 'eu-west-1', {
  tokens: ['tok1', 'tok2', 'tok3'],
  signingHostedZone: 'dkim.eu-west-1.amazonses.com',
});
const ok = (...answers: string[]): LookupResult => ({ ok: true, answers });
const fail = (failure: 'NXDOMAIN' | 'NODATA' | 'TIMEOUT' | 'SERVFAIL'): LookupResult => ({ ok: false, failure, detail: failure });
const allGood = [
  ok('tok1.dkim.eu-west-1.amazonses.com'),
  ok('tok2.dkim.eu-west-1.amazonses.com'),
  ok('tok3.dkim.eu-west-1.amazonses.com'),
  ok('10 inbound-smtp.eu-west-1.amazonaws.com'),
  ok('v=DMARC1; p=quarantine; rua=mailto:d@acme.test;'),
];

describe('DNS record verification', () => {
  it('builds the records from the tokens, the signing zone, the region and spec.dmarc', () => {
    expect(desired.map((r) => `${r.purpose} ${r.type} ${r.name} ${r.value}`)).toEqual([
      'DKIM CNAME tok1._domainkey.mail.acme.test tok1.dkim.eu-west-1.amazonses.com',
      'DKIM CNAME tok2._domainkey.mail.acme.test tok2.dkim.eu-west-1.amazonses.com',
      'DKIM CNAME tok3._domainkey.mail.acme.test tok3.dkim.eu-west-1.amazonses.com',
      'MX MX mail.acme.test 10 inbound-smtp.eu-west-1.amazonaws.com',
      'DMARC TXT _dmarc.mail.acme.test v=DMARC1; p=quarantine; rua=mailto:d@acme.test;',
    ]);
  });

  it('verifies everything when DNS is right and SES says SUCCESS', () => {
    const records = assessRecords(desired, allGood, 'SUCCESS');
    expect(records.every((r) => r.verified && r.message === '')).toBe(true);
    expect(records[0]!.observed).toEqual(['tok1.dkim.eu-west-1.amazonses.com']);
  });

  it('keeps DKIM unverified while SES has not confirmed it, saying so', () => {
    const records = assessRecords(desired, allGood, 'PENDING');
    expect(records.slice(0, 3).every((r) => !r.verified)).toBe(true);
    expect(records[0]!.message).toContain('SES still PENDING');
    expect(records[3]!.verified).toBe(true);
    expect(assessRecords(desired, allGood, 'FAILED')[0]!.message).toContain('DKIM FAILED');
  });

  it('names NXDOMAIN, a wrong target, a missing type, and lookup failures', () => {
    const results = [fail('NXDOMAIN'), ok('tok2.other.example'), fail('TIMEOUT'), fail('NODATA'), fail('SERVFAIL')];
    const [a, b, c, d, e] = assessRecords(desired, results, 'SUCCESS');
    expect(a!.message).toMatch(/^NXDOMAIN: tok1\._domainkey\.mail\.acme\.test does not exist; publish CNAME/);
    expect(b!.message).toBe('wrong target: tok2._domainkey.mail.acme.test points to tok2.other.example, expected tok2.dkim.eu-west-1.amazonses.com');
    expect(b!.observed).toEqual(['tok2.other.example']);
    expect(c!.message).toContain('timed out');
    expect(d!.message).toBe('no MX record at mail.acme.test; publish MX 10 inbound-smtp.eu-west-1.amazonaws.com');
    expect(e!.message).toContain('SERVFAIL');
    expect(dkimLive(desired, results)).toBe(false);
    expect(dkimLive(desired, allGood)).toBe(true);
  });

  it('verifies MX only when the SES inbound host alone has the lowest preference value', () => {
    const mx = (...answers: string[]) => assessRecords(desired, [...allGood.slice(0, 3), ok(...answers), allGood[4]!], 'SUCCESS')[3]!;
    // A backup MX with a higher value is fine: SES receives first.
    expect(mx('10 inbound-smtp.eu-west-1.amazonaws.com', '20 mx.backup.example')).toMatchObject({ verified: true, message: '' });
    // Any preference value works while it is the lowest.
    expect(mx('50 inbound-smtp.eu-west-1.amazonaws.com').verified).toBe(true);

    const lower = mx('20 inbound-smtp.eu-west-1.amazonaws.com', '5 mx.other.example', '10 mx.third.example');
    expect(lower.verified).toBe(false);
    expect(lower.observed).toEqual(['20 inbound-smtp.eu-west-1.amazonaws.com', '5 mx.other.example', '10 mx.third.example']);
    expect(lower.message).toBe(
      'another MX receives the mail first: mx.other.example has preference 5, lower than 20 for inbound-smtp.eu-west-1.amazonaws.com; ' +
        'remove it or give inbound-smtp.eu-west-1.amazonaws.com the lowest preference value',
    );

    const tie = mx('10 inbound-smtp.eu-west-1.amazonaws.com', '10 mx.other.example', '10 mx.third.example');
    expect(tie.verified).toBe(false);
    expect(tie.message).toBe(
      'MX preference tie: mx.other.example, mx.third.example have the same preference 10 as inbound-smtp.eu-west-1.amazonaws.com, ' +
        'and senders pick at random among equal preferences, so part of the mail would not reach SES; remove them or give them a higher value',
    );
    expect(mx('10 inbound-smtp.eu-west-1.amazonaws.com', '10 mx.other.example').message).toMatch(
      /^MX preference tie: mx\.other\.example has the same preference 10 as /,
    );

    const wrong = mx('10 mx.other.example');
    expect(wrong.message).toBe('wrong MX: found 10 mx.other.example, expected 10 inbound-smtp.eu-west-1.amazonaws.com');
  });

  it('compares DMARC by its tags, not its spelling, and refuses two DMARC records', () => {
    const spaced = [...allGood.slice(0, 4), ok('v=DMARC1;rua=mailto:d@acme.test;  p=QUARANTINE', 'google-site-verification=x')];
    expect(assessRecords(desired, spaced, 'SUCCESS')[4]!.verified).toBe(true);
    const weaker = [...allGood.slice(0, 4), ok('v=DMARC1; p=none; rua=mailto:d@acme.test')];
    expect(assessRecords(desired, weaker, 'SUCCESS')[4]!.message).toBe(
      'DMARC p= is "none", expected "quarantine" (found "v=DMARC1; p=none; rua=mailto:d@acme.test")',
    );
    const two = [...allGood.slice(0, 4), ok('v=DMARC1; p=quarantine; rua=mailto:d@acme.test', 'v=DMARC1; p=none')];
    expect(assessRecords(desired, two, 'SUCCESS')[4]!.message).toMatch(/^2 DMARC records/);
    const other = [...allGood.slice(0, 4), ok('spf1 include:x')];
    expect(assessRecords(desired, other, 'SUCCESS')[4]!.message).toContain('no DMARC record at _dmarc.mail.acme.test');
  });
});

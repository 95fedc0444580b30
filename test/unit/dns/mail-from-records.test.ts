import { describe, expect, it } from 'vitest';
import { desiredRecords } from '../../../src/dns/desired-records.ts';
import type { LookupResult } from '../../../src/dns/lookup.ts';
import { assessRecords, awaitsSesOnly, mailFromLive } from '../../../src/dns/verify-records.ts';

const spec = { domainIdentity: 'mail.acme.test', mailFrom: { domain: 'bounce.mail.acme.test', behaviorOnMxFailure: 'UseDefaultValue' as const } };
const desired = desiredRecords(spec, 'eu-west-1', { tokens: ['tok1', 'tok2', 'tok3'] });
const ok = (...answers: string[]): LookupResult => ({ ok: true, answers });
const others = [
  ok('tok1.dkim.amazonses.com'),
  ok('tok2.dkim.amazonses.com'),
  ok('tok3.dkim.amazonses.com'),
  ok('10 inbound-smtp.eu-west-1.amazonaws.com'),
  ok('v=DMARC1; p=none;'),
];
const MX = '10 feedback-smtp.eu-west-1.amazonses.com';
const SPF = 'v=spf1 include:amazonses.com ~all';
/** The two MAIL_FROM records assessed, with the others right and SES's statuses as given. */
const mailFrom = (mx: LookupResult, txt: LookupResult, mailFromStatus = 'SUCCESS') =>
  assessRecords(desired, [...others, mx, txt], { dkimStatus: 'SUCCESS', mailFromStatus }).slice(5);

describe('MAIL FROM records', () => {
  it('adds the MX and the SPF TXT of spec.mailFrom.domain after the five others, with the region in the MX host', () => {
    expect(desired.map((r) => `${r.purpose} ${r.type} ${r.name} ${r.value}`)).toEqual([
      'DKIM CNAME tok1._domainkey.mail.acme.test tok1.dkim.amazonses.com',
      'DKIM CNAME tok2._domainkey.mail.acme.test tok2.dkim.amazonses.com',
      'DKIM CNAME tok3._domainkey.mail.acme.test tok3.dkim.amazonses.com',
      'MX MX mail.acme.test 10 inbound-smtp.eu-west-1.amazonaws.com',
      'DMARC TXT _dmarc.mail.acme.test v=DMARC1; p=none;',
      `MAIL_FROM MX bounce.mail.acme.test ${MX}`,
      `MAIL_FROM TXT bounce.mail.acme.test ${SPF}`,
    ]);
    expect(desiredRecords({ domainIdentity: 'mail.acme.test' }, 'us-east-2', { tokens: [] }).map((r) => r.purpose)).toEqual(['MX', 'DMARC']);
    expect(desiredRecords(spec, 'us-east-2', { tokens: [] })[2]!.value).toBe('10 feedback-smtp.us-east-2.amazonses.com');
  });

  it('verifies them only when both resolve right and SES says SUCCESS, naming what SES says otherwise', () => {
    expect(mailFrom(ok(MX), ok(SPF)).map((r) => [r.verified, r.message])).toEqual([
      [true, ''],
      [true, ''],
    ]);
    const pending = mailFrom(ok(MX), ok(SPF), 'PENDING');
    expect(pending.map((r) => r.verified)).toEqual([false, false]);
    expect(pending[0]!.message).toBe('published; SES still PENDING MAIL FROM verification (it re-checks on its own schedule)');
    expect(pending.every(awaitsSesOnly)).toBe(true);
    expect(mailFrom(ok(MX), ok(SPF), 'FAILED')[1]!.message).toBe(
      'published, but SES reports MAIL FROM FAILED: it stopped checking; request a verify to make SES start over',
    );
    expect(mailFrom(ok(MX), ok(SPF), 'TEMPORARY_FAILURE')[0]!.message).toContain('TEMPORARY_FAILURE');
    const unknown = assessRecords(desired, [...others, ok(MX), ok(SPF)], { dkimStatus: 'SUCCESS' }).slice(5);
    expect(unknown[0]!.message).toBe('published; SES has not reported MAIL FROM verification yet');
    // The DKIM status alone, as before, says nothing about MAIL FROM.
    expect(assessRecords(desired, [...others, ok(MX), ok(SPF)], 'SUCCESS')[5]!.verified).toBe(false);
  });

  it('asks for the SES feedback host as the only MX of the MAIL FROM domain', () => {
    const [wrong] = mailFrom(ok('10 mx.elsewhere.test'), ok(SPF));
    expect(wrong!.message).toBe(`wrong MX: found 10 mx.elsewhere.test, expected ${MX}`);
    const [backup] = mailFrom(ok(MX, '20 backup.acme.test'), ok(SPF));
    expect(backup!.verified).toBe(false);
    expect(backup!.message).toBe(
      'another MX record at bounce.mail.acme.test (backup.acme.test): SES needs feedback-smtp.eu-west-1.amazonses.com to be the only MX of a MAIL FROM domain; remove it',
    );
    expect(awaitsSesOnly(backup!)).toBe(false);
    const [two] = mailFrom(ok(MX, '5 a.test', '5 b.test'), ok(SPF));
    expect(two!.message).toMatch(/^other MX records at bounce\.mail\.acme\.test \(a\.test, b\.test\): .*; remove them$/);
    expect(mailFrom(ok('20 FEEDBACK-SMTP.eu-west-1.amazonses.com.'), ok(SPF))[0]!.verified).toBe(true);
  });

  it('judges SPF as receivers do: one v=spf1 record that includes amazonses.com, other mechanisms and the all qualifier left to the owner', () => {
    const spf = (...answers: string[]) => mailFrom(ok(MX), ok(...answers))[1]!;
    expect(spf('v=spf1 include:_spf.acme.test include:amazonses.com -all').verified).toBe(true);
    expect(spf('V=SPF1  Include:AmazonSES.com ~all', 'google-site-verification=x').verified).toBe(true);
    expect(spf('google-site-verification=x').message).toBe(
      `no SPF record at bounce.mail.acme.test (found only "google-site-verification=x"); publish TXT "${SPF}"`,
    );
    expect(spf('v=spf1 include:amazonses.com ~all', 'v=spf1 include:other.test ~all').message).toBe(
      `2 SPF records at bounce.mail.acme.test: receivers treat that as an error and SPF fails; keep only "${SPF}"`,
    );
    expect(spf('v=spf1 include:other.test ~all').message).toBe(
      `SPF record at bounce.mail.acme.test lacks include:amazonses.com (found "v=spf1 include:other.test ~all"); publish TXT "${SPF}"`,
    );
    expect(spf('v=spf10 include:amazonses.com').verified).toBe(false);
    expect(mailFrom(ok(MX), { ok: false, failure: 'NODATA', detail: '' })[1]!.message).toBe(`no TXT record at bounce.mail.acme.test; publish TXT ${SPF}`);
  });

  it('calls MAIL FROM live only when both records are right in DNS', () => {
    expect(mailFromLive(desired, [...others, ok(MX), ok(SPF)])).toBe(true);
    expect(mailFromLive(desired, [...others, ok(MX), ok('v=spf1 ~all')])).toBe(false);
    expect(mailFromLive(desired, [...others, { ok: false, failure: 'NXDOMAIN', detail: '' }, ok(SPF)])).toBe(false);
    const without = desiredRecords({ domainIdentity: 'mail.acme.test' }, 'eu-west-1', { tokens: [] });
    expect(mailFromLive(without, [ok('10 inbound-smtp.eu-west-1.amazonaws.com'), ok('v=DMARC1; p=none;')])).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { CountingDnsLookup } from '../../../src/dns/counting-lookup.ts';
import { FakeDns } from '../../support/fakes/index.ts';

describe('CountingDnsLookup', () => {
  it('counts every lookup by type and outcome and passes the answer through unchanged', async () => {
    const dns = new FakeDns();
    dns.publish([{ type: 'CNAME', name: 'tok1._domainkey.mail.acme.test', value: 'tok1.dkim.amazonses.com' }]);
    const counted: string[] = [];
    const lookup = new CountingDnsLookup(dns, (type, outcome) => counted.push(`${type} ${outcome}`));

    expect(await lookup.lookup('CNAME', 'tok1._domainkey.mail.acme.test')).toEqual({ ok: true, answers: ['tok1.dkim.amazonses.com'] });
    expect(await lookup.lookup('MX', 'mail.acme.test')).toEqual({ ok: false, failure: 'NXDOMAIN', detail: 'no such name' });
    expect(counted).toEqual(['CNAME ok', 'MX NXDOMAIN']);
    expect(dns.lookups).toEqual(['CNAME tok1._domainkey.mail.acme.test', 'MX mail.acme.test']);
  });
});

import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from '../../harness/stack/dns-server.ts';
import { publishRecords, removeRecords } from '../../harness/stack/dns-records.ts';
import { processAlive } from '../support/processes.ts';

describe('local DNS server (BIND, zone test., RFC 2136 updates)', () => {
  let dns: DnsServer;
  let resolver: Resolver;
  const domain = `dns-${Date.now().toString(36)}.example.test`;

  beforeAll(async () => {
    dns = await startDnsServer();
    resolver = new Resolver({ timeout: 1_000, tries: 1 });
    resolver.setServers([dns.address]);
  });
  afterAll(async () => dns?.stop());

  it('serves a CNAME, an MX and a split long TXT published at run time', async () => {
    const longText = `v=DMARC1; p=none; rua=mailto:${'r'.repeat(300)}@example.test`;
    await publishRecords(dns.address, [
      { name: `tok1._domainkey.${domain}`, type: 'CNAME', value: 'tok1.dkim.amazonses.com' },
      { name: domain, type: 'MX', value: '10 inbound-smtp.eu-west-1.amazonaws.com' },
      { name: `_dmarc.${domain}`, type: 'TXT', value: longText },
    ]);

    expect(await resolver.resolveCname(`TOK1._domainkey.${domain.toUpperCase()}`)).toEqual(['tok1.dkim.amazonses.com']);
    expect((await resolver.resolveMx(domain)).map((mx) => `${mx.priority} ${mx.exchange}`)).toEqual(['10 inbound-smtp.eu-west-1.amazonaws.com']);
    const txt = await resolver.resolveTxt(`_dmarc.${domain}`);
    expect(txt).toHaveLength(1);
    expect(txt[0]!.length).toBeGreaterThan(1); // more than 255 bytes arrives as several strings
    expect(txt[0]!.every((part) => part.length <= 255)).toBe(true);
    expect(txt[0]!.join('')).toBe(longText);
  });

  it('replaces a record when it is published again', async () => {
    const name = `tok2._domainkey.${domain}`;
    await publishRecords(dns.address, [{ name, type: 'CNAME', value: 'wrong.example.test' }]);
    await publishRecords(dns.address, [{ name, type: 'CNAME', value: 'tok2.dkim.amazonses.com' }]);
    expect(await resolver.resolveCname(name)).toEqual(['tok2.dkim.amazonses.com']);
  });

  it('answers NXDOMAIN for a removed name and NODATA for a missing type', async () => {
    const name = `gone._domainkey.${domain}`;
    await publishRecords(dns.address, [{ name, type: 'CNAME', value: 'x.dkim.amazonses.com' }]);
    await removeRecords(dns.address, [{ name, type: 'CNAME' }]);
    await expect(resolver.resolveCname(name)).rejects.toMatchObject({ code: 'ENOTFOUND' });

    await publishRecords(dns.address, [{ name: `mx-only.${domain}`, type: 'MX', value: '10 mx.example.test' }]);
    await expect(resolver.resolveTxt(`mx-only.${domain}`)).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('stops its named process', async () => {
    const server = await startDnsServer();
    const pid = server.process.pid;
    expect(processAlive(pid)).toBe(true);
    await server.stop();
    expect(processAlive(pid)).toBe(false);
  });
});

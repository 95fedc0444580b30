import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, onTestFailed } from 'vitest';
import { quotedStrings } from '../../src/dns/txt-strings.ts';
import { publishRecords, splitHostPort } from '../../harness/stack/dns-records.ts';
import { DNS_ENDPOINT_API_VERSION, externalDnsArgs, installDnsEndpointCrd, startExternalDns, type ExternalDns } from '../../harness/stack/external-dns.ts';
import { ensureGoBinary } from '../../harness/stack/go-binaries.ts';
import { kubectl } from '../../harness/stack/kubectl.ts';
import { processAlive } from '../support/processes.ts';
import { uniqueSuffix } from '../support/cluster.ts';

const run = promisify(execFile);
const stack = inject('stack');
const id = uniqueSuffix();
const namespace = `edns-${id}`;
const domain = `mail.edns-${id}.test`;
const resolver = new Resolver({ timeout: 1_000, tries: 1 });
resolver.setServers([stack.dnsServer]);

/** A DNSEndpoint as the operator will write one: SES's three record types, TXT target quoted. */
function dnsEndpoint(dmarc: string) {
  return {
    apiVersion: DNS_ENDPOINT_API_VERSION,
    kind: 'DNSEndpoint',
    metadata: { name: 'ses-records', namespace },
    spec: {
      endpoints: [
        { dnsName: `tok1._domainkey.${domain}`, recordType: 'CNAME', recordTTL: 60, targets: ['tok1.dkim.amazonses.com'] },
        { dnsName: domain, recordType: 'MX', recordTTL: 60, targets: ['10 inbound-smtp.us-east-1.amazonaws.com'] },
        // Quoted as in a zone file (unquoted, external-dns's zone-file parser ends the text at its
        // first ";"), and split into strings of at most 255 bytes.
        { dnsName: `_dmarc.${domain}`, recordType: 'TXT', recordTTL: 60, targets: [quotedStrings(dmarc)] },
      ],
    },
  };
}

const apply = (object: object) => kubectl(stack.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(object) });
const answer = async <T>(lookup: Promise<T>): Promise<T | string> => lookup.catch((error: { code?: string }) => error.code ?? 'error');
const cname = () => answer(resolver.resolveCname(`tok1._domainkey.${domain}`));
const mx = () => answer(resolver.resolveMx(domain).then((rows) => rows.map((row) => `${row.priority} ${row.exchange}`)));
const txt = () => answer(resolver.resolveTxt(`_dmarc.${domain}`).then((rows) => rows.map((strings) => strings.join(''))));
const POLL = { timeout: 30_000, interval: 250 };

async function observedGeneration(): Promise<{ generation: number; observedGeneration?: number }> {
  const { stdout } = await kubectl(stack.kubeconfig, ['get', 'dnsendpoint', 'ses-records', '-n', namespace, '-o', 'json']);
  const stored = JSON.parse(stdout) as { metadata: { generation: number }; status?: { observedGeneration?: number } };
  return { generation: stored.metadata.generation, observedGeneration: stored.status?.observedGeneration };
}

/** What external-dns's latest sync did: added, removed, or found nothing to do. */
function lastSync(): string | undefined {
  return externalDns.process
    .tail()
    .split('\n')
    .findLast((line) => /All records are already up to date|Adding RR|Removing RR/.test(line));
}

/** Every name in the zone under the test's domain, as a zone transfer (AXFR) lists them. */
async function zoneNames(): Promise<string[]> {
  const [host, port] = splitHostPort(stack.dnsServer);
  const { stdout } = await run('dig', ['+noall', '+answer', `@${host}`, '-p', String(port), 'AXFR', 'test']);
  const names = stdout.split('\n').map((line) => line.split(/\s+/)[0]!.replace(/\.$/, ''));
  return [...new Set(names.filter((name) => name.endsWith(`.${domain}`) || name === domain))].sort();
}

let externalDns: ExternalDns;

describe('external-dns (real, CRD source -> RFC 2136 into the local BIND)', () => {
  beforeAll(async () => {
    await installDnsEndpointCrd(stack.kubeconfig);
    await kubectl(stack.kubeconfig, ['create', 'namespace', namespace]);
    // Someone else's record in the same zone and under the same domain: external-dns must leave it alone.
    await publishRecords(stack.dnsServer, [{ name: `www.${domain}`, type: 'TXT', value: 'published by hand; not external-dns' }]);
    externalDns = await startExternalDns({ kubeconfig: stack.kubeconfig, dnsServer: stack.dnsServer, namespace, ownerId: `harness-${id}`, interval: '2s' });
  }, 600_000); // the first run builds external-dns from the Go module proxy
  // On failure, external-dns's last log lines say what it saw and did.
  beforeEach(() => onTestFailed(() => console.error(`external-dns log (last lines):\n${externalDns?.process.tail()}`)));
  afterAll(async () => {
    await externalDns?.stop();
    await kubectl(stack.kubeconfig, ['delete', 'namespace', namespace, '--wait=false']).catch(() => {});
  });

  it('publishes a DNSEndpoint CNAME, MX and TXT (semicolons intact) into BIND and reports the generation observed', async () => {
    await apply(dnsEndpoint('v=DMARC1; p=none;'));
    await expect.poll(cname, POLL).toEqual(['tok1.dkim.amazonses.com']);
    await expect.poll(mx, POLL).toEqual(['10 inbound-smtp.us-east-1.amazonaws.com']);
    await expect.poll(txt, POLL).toEqual(['v=DMARC1; p=none;']);
    // external-dns writes it when it reads the generation, at the start of a sync (not when DNS has it).
    await expect.poll(observedGeneration, POLL).toEqual({ generation: 1, observedGeneration: 1 });
    // Settled: it reads back exactly what it wrote, instead of rewriting records every sync.
    await expect.poll(lastSync, POLL).toContain('All records are already up to date');
  });

  it('replaces the TXT record when the DNSEndpoint changes (to text longer than one 255-byte string), leaving the others in place', async () => {
    const long = `v=DMARC1; p=reject; rua=mailto:${'d'.repeat(260)}@example.test;`;
    await apply(dnsEndpoint(long));
    await expect.poll(txt, POLL).toEqual([long]);
    await expect.poll(observedGeneration, POLL).toEqual({ generation: 2, observedGeneration: 2 });
    expect(await cname()).toEqual(['tok1.dkim.amazonses.com']);
    expect(await mx()).toEqual(['10 inbound-smtp.us-east-1.amazonaws.com']);
    await expect.poll(lastSync, POLL).toContain('All records are already up to date');
  });

  it('removes what it published when the DNSEndpoint is deleted, and leaves a record it does not own', async () => {
    await kubectl(stack.kubeconfig, ['delete', 'dnsendpoint', 'ses-records', '-n', namespace]);
    await expect.poll(cname, POLL).toBe('ENOTFOUND');
    await expect.poll(txt, POLL).toBe('ENOTFOUND');
    // The domain's own name stays (www. below it), with no MX left.
    await expect.poll(mx, POLL).toBe('ENODATA');
    // Its ownership records (TXT registry) go too: nothing of it is left in the zone.
    expect(await zoneNames()).toEqual([`www.${domain}`]);
    expect(await answer(resolver.resolveTxt(`www.${domain}`))).toEqual([['published by hand; not external-dns']]);
  });

  it("carries v0.22.0's client rate flags (backported), and the harness raises them", async () => {
    // Unpatched v0.20.0 has no such flags (it would refuse to start with them); its CRD client writes 5 a second.
    const { stdout, stderr } = await run(await ensureGoBinary('external-dns'), ['--help']);
    expect(stdout + stderr).toContain('--kube-api-qps=5');
    expect(stdout + stderr).toContain('--kube-api-burst=10');
    const args = externalDnsArgs({ kubeconfig: 'k', dnsServer: '127.0.0.1:53', ownerId: 'o', metricsAddress: '127.0.0.1:0' });
    expect(args).toEqual(expect.arrayContaining(['--kube-api-qps=50', '--kube-api-burst=100']));
  });

  it('stops its process', async () => {
    const pid = externalDns.process.pid;
    await externalDns.stop();
    expect(processAlive(pid)).toBe(false);
  });
});

import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, SES_SETUP } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { removeFromStorage } from '../../harness/stack/control-plane.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { installDnsEndpointCrd, startExternalDns, type ExternalDns } from '../../harness/stack/external-dns.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { cluster, condition, getDnsEndpoint, uniqueSuffix } from '../support/cluster.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';
import { processAlive } from '../support/processes.ts';

/**
 * spec.dnsPublication: ExternalDNS end to end: the operator (with the shipped RBAC) keeps a
 * DNSEndpoint per setup, the real external-dns (CRD source, RFC 2136) writes it into the real
 * BIND, the simulator's DKIM check finds the CNAMEs there, and the setup turns Ready with nobody
 * touching DNS. First without the DNSEndpoint CRD and without external-dns.
 */
const c = cluster();
const id = uniqueSuffix();
const ns = `dnspub-${id}`;
const CRD = 'customresourcedefinition/dnsendpoints.externaldns.k8s.io';
const resolver = new Resolver({ timeout: 1_000, tries: 1 });
resolver.setServers([c.stack.dnsServer]);
let operator: OperatorProcess;
let externalDns: ExternalDns | undefined;

const domainOf = (name: string) => `mail.${name}.test`;
const spec = (name: string, extra: Record<string, unknown> = {}) => ({
  tenantName: name.replaceAll('-', '_'),
  domainIdentity: domainOf(name),
  dnsPublication: 'ExternalDNS',
  ...extra,
});

const dnsEndpoint = (name: string) => getDnsEndpoint(c, ns, name);

/** What BIND answers for every record of a setup, by "TYPE name", errors as their code. */
async function answers(records: { name: string; type: string }[]): Promise<Record<string, string>> {
  const lookup = async ({ name, type }: { name: string; type: string }) => {
    try {
      if (type === 'CNAME') return (await resolver.resolveCname(name)).join(',');
      if (type === 'MX') return (await resolver.resolveMx(name)).map((mx) => `${mx.priority} ${mx.exchange}`).join(',');
      return (await resolver.resolveTxt(name)).map((strings) => strings.join('')).join(',');
    } catch (error) {
      return (error as { code?: string }).code ?? 'error';
    }
  };
  return Object.fromEntries(await Promise.all(records.map(async (r) => [`${r.type} ${r.name}`, await lookup(r)])));
}

const ready = (name: string) =>
  waitUntil(
    `${name} Ready through external-dns`,
    async () => {
      const setup = await c.getSetup(name);
      return condition(setup, 'Ready')?.status === 'True' ? setup : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500, process: operator.process },
  );

describe('dnsPublication: ExternalDNS with the real external-dns and BIND', () => {
  beforeAll(async () => {
    await c.installCrds();
    // Files run one at a time: a DNSEndpoint CRD left by another file is removed, to start without it.
    await c.kubectl(['delete', CRD, '--ignore-not-found', '--wait=true']);
    await c.ensureNamespace(ns);
    operator = await startOperator(['--dns-endpoint-namespace', ns]);
  }, 600_000);

  afterAll(async () => {
    await operator?.stop();
    await externalDns?.stop();
    for (const setup of await c.listSetups().catch(() => [] as SesSetup[]))
      if (setup.metadata.name.endsWith(id)) await c.clearSetupFinalizers(setup.metadata.name).then(() => c.deleteSetup(setup.metadata.name));
    await c.deleteNamespace(ns).catch(() => {});
  });

  it('without the DNSEndpoint CRD: DnsPublished False (DnsEndpointCrdMissing), a Manual setup unaffected, the operator keeps running', async () => {
    await c.createSetup(`crd-${id}`, spec(`crd-${id}`));
    await c.createSetup(`man-${id}`, { tenantName: `man_${id}`, domainIdentity: domainOf(`man-${id}`) });
    const missing = await waitUntil(
      'DnsPublished False: CRD missing',
      async () => {
        const published = condition(await c.getSetup(`crd-${id}`), 'DnsPublished');
        return published?.reason === 'DnsEndpointCrdMissing' ? published : undefined;
      },
      { process: operator.process },
    );
    expect(missing).toMatchObject({ status: 'False', reason: 'DnsEndpointCrdMissing' });
    expect(missing.message).toMatch(/external-dns/);
    const crdSetup = (await c.getSetup(`crd-${id}`))!;
    expect(crdSetup.status?.dnsRecords?.every((r) => r.published === false)).toBe(true);
    expect(condition(crdSetup, 'Ready')?.reason).toBe('DnsEndpointCrdMissing');
    const manual = await waitUntil('the Manual setup has its records', async () => {
      const setup = await c.getSetup(`man-${id}`);
      return setup?.status?.dnsRecords?.length === 5 ? setup : undefined;
    });
    expect(condition(manual, 'DnsPublished')).toBeUndefined();
    expect(manual.status?.dnsRecords?.some((r) => 'published' in r)).toBe(false);
    expect(processAlive(operator.process.pid)).toBe(true);
  });

  it('CRD installed, external-dns not running yet: the DNSEndpoint holds every record, labelled and owned; nothing is in DNS yet', async () => {
    await installDnsEndpointCrd(c.stack.kubeconfig);
    const name = `crd-${id}`;
    const published = await waitUntil(
      'DnsPublished True once the CRD is there',
      async () => {
        const setup = await c.getSetup(name);
        return condition(setup, 'DnsPublished')?.status === 'True' ? setup : undefined;
      },
      { timeoutMs: 60_000, process: operator.process },
    );
    const records = published.status!.dnsRecords!;
    expect(records.every((r) => r.published === true && r.verified === false)).toBe(true);
    const endpoint = (await dnsEndpoint(name))!;
    expect(endpoint.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'ses-operator', 'ses.channels.dev/sessetup': name });
    expect(endpoint.metadata.ownerReferences).toEqual([
      { apiVersion: 'ses.channels.dev/v1alpha1', kind: 'SesSetup', name, uid: published.metadata.uid, controller: true },
    ]);
    expect(endpoint.spec!.endpoints!.map((e) => `${e.recordType} ${e.dnsName} ${e.recordTTL} ${e.targets.join('|')}`).sort()).toEqual(
      records.map((r) => `${r.type} ${r.name} 300 ${r.type === 'TXT' ? `"${r.value}"` : r.value}`).sort(),
    );
    expect(Object.values(await answers(records)).every((answer) => answer === 'ENOTFOUND')).toBe(true);
  });

  it('external-dns writes the records into BIND, SES verifies DKIM, and the setup turns Ready with nobody touching DNS', async () => {
    externalDns = await startExternalDns({ kubeconfig: c.stack.kubeconfig, dnsServer: c.stack.dnsServer, namespace: ns, ownerId: `e2e-${id}`, interval: '2s' });
    const setup = await ready(`crd-${id}`);
    expect(setup.status?.identity?.dkimStatus).toBe('SUCCESS');
    expect(setup.status?.dnsRecords?.every((r) => r.published && r.verified)).toBe(true);
    const found = await answers(setup.status!.dnsRecords!);
    for (const record of setup.status!.dnsRecords!) expect(found[`${record.type} ${record.name}`]).toBe(record.value);
    const endpoint = (await dnsEndpoint(`crd-${id}`))!;
    expect(endpoint.status?.observedGeneration).toBe(endpoint.metadata.generation);
  });

  it('a new DMARC policy replaces the TXT record in BIND (only the new text is left)', async () => {
    const name = `crd-${id}`;
    await c.kubectl(['patch', 'sessetup', name, '--type=merge', '-p', JSON.stringify({ spec: { dmarc: { policy: 'quarantine' } } })]);
    const dmarc = `_dmarc.${domainOf(name)}`;
    await waitUntil(
      'BIND to answer the new DMARC text alone',
      async () => {
        const found = await answers([{ name: dmarc, type: 'TXT' }]);
        return found[`TXT ${dmarc}`] === 'v=DMARC1; p=quarantine;' || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const setup = await waitUntil('the DMARC record verified with the new value', async () => {
      const s = await c.getSetup(name);
      const record = s?.status?.dnsRecords?.find((r) => r.purpose === 'DMARC');
      return record?.value === 'v=DMARC1; p=quarantine;' && record.verified && condition(s, 'Ready')?.status === 'True' ? s : undefined;
    });
    expect(setup.status?.dnsVerified).toBe(true);
  });

  it('two setups published at once both turn Ready', async () => {
    await Promise.all([c.createSetup(`two-a-${id}`, spec(`two-a-${id}`)), c.createSetup(`two-b-${id}`, spec(`two-b-${id}`))]);
    const [a, b] = await Promise.all([ready(`two-a-${id}`), ready(`two-b-${id}`)]);
    expect(a.status?.dnsRecords?.every((r) => r.published && r.verified)).toBe(true);
    expect(b.status?.dnsRecords?.every((r) => r.published && r.verified)).toBe(true);
  });

  it('a DNSEndpoint deleted by hand is recreated', async () => {
    const name = `two-a-${id}`;
    const before = (await dnsEndpoint(name))!;
    await c.kubectl(['delete', 'dnsendpoints.externaldns.k8s.io', name, '-n', ns]);
    const after = await waitUntil('the DNSEndpoint recreated', async () => {
      const endpoint = await dnsEndpoint(name);
      return endpoint && endpoint.metadata.uid !== before.metadata.uid ? endpoint : undefined;
    });
    expect(after.spec?.endpoints).toEqual(before.spec?.endpoints);
  });

  it('deleting a setup removes every record it published from BIND and leaves a record that was not its own', async () => {
    const name = `two-b-${id}`;
    const setup = (await c.getSetup(name))!;
    const records = setup.status!.dnsRecords!;
    const foreign = { name: `www.${domainOf(name)}`, type: 'TXT' as const, value: 'published by hand; not the operator' };
    await publishRecords(c.stack.dnsServer, [foreign]);
    await c.deleteSetup(name);
    await waitUntil('the SesSetup and its DNSEndpoint gone', async () => !(await c.getSetup(name)) && !(await dnsEndpoint(name)), { timeoutMs: 30_000 });
    // The teardown went through at the first attempt: no failed request, no retry.
    const failed = (await operator.logs()).filter((line) => line.msg === 'Reconciler error' && line.key === name);
    expect(failed.map((line) => (line.err as { stack?: string }).stack)).toEqual([]);
    await waitUntil(
      'BIND to answer none of its records',
      async () => Object.values(await answers(records)).every((answer) => answer === 'ENOTFOUND' || answer === 'ENODATA'),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(await answers([foreign])).toEqual({ [`TXT ${foreign.name}`]: foreign.value });
    // The other setup's records are untouched.
    const other = (await c.getSetup(`two-a-${id}`))!;
    const kept = await answers(other.status!.dnsRecords!);
    for (const record of other.status!.dnsRecords!) expect(kept[`${record.type} ${record.name}`]).toBe(record.value);
  });

  it('a setup kube-apiserver removes while it carries the finalizer (kubernetes#77988): SES torn down, its DNSEndpoint deleted, its records gone from BIND', async () => {
    const name = `raced-${id}`;
    await c.createSetup(name, spec(name));
    const setup = await ready(name);
    const records = setup.status!.dnsRecords!;
    expect(setup.metadata.finalizers).toContain('ses.channels.dev/finalizer');
    // Gone from storage at once: the watch reports DELETED with the finalizer still on, no deletionTimestamp ever.
    await removeFromStorage(c.stack.etcdUrl, { group: GROUP, plural: SES_SETUP.plural }, name);
    await waitUntil(
      'its DNSEndpoint deleted and its SES resources torn down',
      async () => {
        const state = await c.sim.state();
        return (
          !(await dnsEndpoint(name)) &&
          !state.tenants.some((t) => t.name === setup.status!.tenant!.name) &&
          !state.identities.some((i) => i.name === domainOf(name))
        );
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await waitUntil(
      'BIND to answer none of its records',
      async () => Object.values(await answers(records)).every((answer) => answer === 'ENOTFOUND' || answer === 'ENODATA'),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const said = (await operator.logs()).filter((line) => line.sessetup === name).map((line) => line.msg);
    expect(said).toEqual(expect.arrayContaining(['SesSetup was deleted without its finalizer being honoured; SES torn down', 'its DNSEndpoint was deleted']));
  });
});

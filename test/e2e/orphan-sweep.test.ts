import { CreateEmailIdentityCommand, CreateTenantCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, OWNER_UID_TAG, RETAINED_TAG, SES_SETUP } from '../../src/api/group.ts';
import { ownedBy } from '../../src/controllers/sessetup/dns-endpoint.ts';
import { removeFromStorage } from '../../harness/stack/control-plane.ts';
import { installDnsEndpointCrd } from '../../harness/stack/external-dns.ts';
import type { StateSnapshot } from '../../harness/simulator/state.ts';
import { FAKE_AWS_ENV } from '../../harness/stack/local-operator.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { cluster, getDnsEndpoint, uniqueSuffix } from '../support/cluster.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
// Short enough for a test: a sweep every 2 s, an orphan deleted at the sweep after it was first seen.
const SWEEP_FLAGS = ['--orphan-sweep-interval', '2s', '--orphan-sweep-grace', '1s'];
let operator: OperatorProcess | undefined;

const tagsOf = (resource: { tags: { Key: string; Value?: string }[] } | undefined) =>
  Object.fromEntries((resource?.tags ?? []).map((tag) => [tag.Key, tag.Value ?? '']));

/** What the simulator holds under these names: tenant, identity, associations of the tenant. */
function held(state: StateSnapshot, tenantName: string, domain: string) {
  return {
    tenant: state.tenants.find((t) => t.name === tenantName),
    identity: state.identities.find((i) => i.name === domain),
    associations: state.associations.filter((a) => a.tenantName === tenantName),
  };
}

async function sweepsDone(): Promise<number> {
  return (await operator!.logs()).filter((line) => line.msg === 'orphan sweep done').length;
}

describe('the orphan sweep', () => {
  beforeAll(async () => c.installCrds());
  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
  });
  afterAll(async () => c.sim.setFaults({}));

  it('deletes what a setup removed without its finalizer left in SES, keeps what Retain kept and what it never created', async () => {
    const id = uniqueSuffix();
    const gone = { name: `orph-${id}`, tenantName: `orph_${id}`, domainIdentity: `mail.orph-${id}.test` };
    const kept = { name: `kept-${id}`, tenantName: `kept_${id}`, domainIdentity: `mail.kept-${id}.test` };
    const foreign = { tenantName: `theirs_${id}`, domainIdentity: `mail.theirs-${id}.test` };

    operator = await startOperator(SWEEP_FLAGS);
    await c.createSetup(gone.name, { tenantName: gone.tenantName, domainIdentity: gone.domainIdentity });
    await c.createSetup(kept.name, { tenantName: kept.tenantName, domainIdentity: kept.domainIdentity, deletionPolicy: 'Retain' });
    for (const name of [gone.name, kept.name]) {
      await waitUntil(`${name} records in status`, async () => (await c.getSetup(name))?.status?.identity?.tenantAssociated, { timeoutMs: 20_000 });
    }
    const goneUid = (await c.getSetup(gone.name))!.metadata.uid!;

    // Someone else's tenant and identity in the same account and region, made without the operator.
    const sdk = new SESv2Client({
      endpoint: c.stack.sesEndpoint,
      region: c.stack.region,
      credentials: { accessKeyId: FAKE_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY },
    });
    try {
      await sdk.send(new CreateTenantCommand({ TenantName: foreign.tenantName }));
      await sdk.send(new CreateEmailIdentityCommand({ EmailIdentity: foreign.domainIdentity }));
    } finally {
      sdk.destroy();
    }

    // Retain, deleted the normal way: its finalizer tags what it keeps.
    await c.deleteSetup(kept.name);
    await waitUntil(`${kept.name} gone`, async () => (await c.getSetup(kept.name)) === undefined, { timeoutMs: 20_000 });
    const retained = held(await c.sim.state(), kept.tenantName, kept.domainIdentity);
    expect(tagsOf(retained.tenant)).toMatchObject({ [RETAINED_TAG]: 'true' });
    expect(tagsOf(retained.identity)).toMatchObject({ [RETAINED_TAG]: 'true' });

    // The operator is down; a person strips the finalizer and deletes the setup: nothing tears SES down.
    await operator.stop();
    operator = undefined;
    await c.kubectl(['patch', 'sessetup', gone.name, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await c.deleteSetup(gone.name);
    await waitUntil(`${gone.name} gone`, async () => (await c.getSetup(gone.name)) === undefined);
    const leaked = held(await c.sim.state(), gone.tenantName, gone.domainIdentity);
    expect(tagsOf(leaked.tenant)[OWNER_UID_TAG]).toBe(goneUid);
    expect(leaked.identity).toBeDefined();
    expect(leaked.associations).toHaveLength(1);

    operator = await startOperator(SWEEP_FLAGS);
    await waitUntil(
      'the orphaned tenant, identity and association swept',
      async () => {
        const now = held(await c.sim.state(), gone.tenantName, gone.domainIdentity);
        return !now.tenant && !now.identity && now.associations.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const swept = (await operator.logs()).filter((line) => String(line.msg).startsWith('orphan swept'));
    expect(swept).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'identity', name: gone.domainIdentity, region: c.stack.region, ownerUid: goneUid, ownerName: gone.name }),
        expect.objectContaining({ kind: 'tenant', name: gone.tenantName, region: c.stack.region, ownerUid: goneUid, ownerName: gone.name }),
      ]),
    );
    const metrics = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
    for (const kind of ['tenant', 'identity']) {
      const line = new RegExp(`^ses_operator_orphans_swept_total\\{kind="${kind}",region="${c.stack.region}"\\} (\\d+)`, 'm').exec(metrics);
      expect(Number(line?.[1])).toBeGreaterThanOrEqual(1);
    }
    // The SES calls waiting for the shared rate limit, by class, read from the limiter at the scrape.
    for (const priority of ['urgent', 'routine'])
      expect(metrics).toMatch(new RegExp(`^ses_operator_ses_rate_limiter_waiting\\{priority="${priority}"\\} \\d+$`, 'm'));

    // Several sweeps later, the retained and the foreign resources are all still there, untouched.
    const after = await sweepsDone();
    await waitUntil('three more sweeps', async () => (await sweepsDone()) >= after + 3, { timeoutMs: 30_000, intervalMs: 250 });
    const state = await c.sim.state();
    const stillKept = held(state, kept.tenantName, kept.domainIdentity);
    expect(stillKept.tenant).toBeDefined();
    expect(stillKept.identity).toBeDefined();
    expect(stillKept.associations).toHaveLength(1);
    const theirs = held(state, foreign.tenantName, foreign.domainIdentity);
    expect(theirs.tenant?.tags).toEqual([]);
    expect(theirs.identity?.tags).toEqual([]);
    const names = [kept.tenantName, kept.domainIdentity, foreign.tenantName, foreign.domainIdentity];
    const calls = (await c.sim.calls()).log.filter((call) => names.includes(call.target ?? ''));
    expect(calls.filter((call) => /^(Delete|Untag)/.test(call.operation))).toEqual([]);
    // The only writes to any of them: the Retain finalizer's two retained tags.
    expect(calls.filter((call) => call.operation === 'TagResource').map((call) => call.target)).toEqual([kept.tenantName, kept.domainIdentity]);
  });

  it("deletes the DNSEndpoint of a setup kube-apiserver removed while the operator was down (no garbage collector here), keeps a live setup's", async () => {
    const id = uniqueSuffix();
    const ns = `sweepdns-${id}`;
    const gone = { name: `dnsgone-${id}`, tenantName: `dnsgone_${id}`, domainIdentity: `mail.dnsgone-${id}.test`, dnsPublication: 'ExternalDNS' };
    const live = { name: `dnslive-${id}`, tenantName: `dnslive_${id}`, domainIdentity: `mail.dnslive-${id}.test`, dnsPublication: 'ExternalDNS' };
    const endpoint = (name: string) => getDnsEndpoint(c, ns, name);
    await installDnsEndpointCrd(c.stack.kubeconfig);
    await c.ensureNamespace(ns);
    try {
      const flags = ['--dns-endpoint-namespace', ns, ...SWEEP_FLAGS];
      operator = await startOperator(flags);
      for (const { name, ...spec } of [gone, live]) await c.createSetup(name, spec);
      for (const { name } of [gone, live]) await waitUntil(`${name}'s DNSEndpoint`, () => endpoint(name), { timeoutMs: 20_000 });
      const goneUid = (await c.getSetup(gone.name))!.metadata.uid!;
      const liveEndpoint = (await endpoint(live.name))!;

      // The operator is down; kube-apiserver loses the setup, finalizer and all (kubernetes#77988): nothing deletes its DNSEndpoint.
      await operator.stop();
      operator = undefined;
      await removeFromStorage(c.stack.etcdUrl, { group: GROUP, plural: SES_SETUP.plural }, gone.name);
      await waitUntil(`${gone.name} gone`, async () => (await c.getSetup(gone.name)) === undefined);
      expect(ownedBy((await endpoint(gone.name))!, goneUid)).toBe(true);

      operator = await startOperator(flags);
      await waitUntil('the orphaned DNSEndpoint swept', async () => (await endpoint(gone.name)) === undefined, { timeoutMs: 30_000, intervalMs: 250 });
      const swept = (await operator.logs()).filter((line) => String(line.msg).startsWith('orphan swept: DNSEndpoint'));
      expect(swept).toEqual([expect.objectContaining({ kind: 'dnsendpoint', name: gone.name, namespace: ns, ownerUid: goneUid, ownerName: gone.name })]);
      const metrics = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
      expect(Number(/^ses_operator_orphans_swept_total\{kind="dnsendpoint",region=""\} (\d+)/m.exec(metrics)?.[1])).toBe(1);
      // Its SES resources went by the same sweep; the live setup kept its DNSEndpoint, never rewritten.
      await waitUntil('its SES resources swept', async () => {
        const now = held(await c.sim.state(), gone.tenantName, gone.domainIdentity);
        return !now.tenant && !now.identity;
      });
      const after = await sweepsDone();
      await waitUntil('two more sweeps', async () => (await sweepsDone()) >= after + 2, { timeoutMs: 30_000, intervalMs: 250 });
      expect((await endpoint(live.name))?.metadata).toMatchObject({ uid: liveEndpoint.metadata.uid, resourceVersion: liveEndpoint.metadata.resourceVersion });
    } finally {
      await operator?.stop();
      operator = undefined;
      for (const { name } of [gone, live]) if (await c.getSetup(name)) await c.clearSetupFinalizers(name).then(() => c.deleteSetup(name));
      await c.deleteNamespace(ns).catch(() => {});
    }
  });

  it('is off with --orphan-sweep-interval 0', async () => {
    operator = await startOperator(['--orphan-sweep-interval', '0']);
    expect(await operator.waitForLog('starting')).toMatchObject({ orphanSweepIntervalMs: 0 });
    const mark = (await c.sim.calls()).total;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const lists = (await c.sim.calls()).log.filter((call) => call.seq > mark && call.operation.startsWith('List'));
    expect(lists).toEqual([]);
    expect(await sweepsDone()).toBe(0);
  });
});

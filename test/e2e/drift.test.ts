import {
  CreateTenantCommand,
  DeleteEmailIdentityCommand,
  DeleteTenantCommand,
  DeleteTenantResourceAssociationCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_UID_TAG } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { publishRecords, removeRecords } from '../../harness/stack/dns-records.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
let operator: OperatorProcess;
/** Someone else with access to the same SES account: the AWS SDK against the simulator. */
const outsider = new SESv2Client({ endpoint: c.stack.sesEndpoint, region: c.stack.region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const SLOW_RECHECK_S = 3;
/** Setups this file created: deleted (their SES resources torn down) before the operator stops. */
const created: string[] = [];
/** Within one slow re-check, with room for the fast re-checks and SES's own DKIM pass that follow. */
const DETECTED = { timeoutMs: 20_000 };

interface Owned {
  name: string;
  tenant: string;
  domain: string;
  setup: SesSetup;
}

/** A setup created, its records published, and Ready: the steady state drift is read against. */
async function readySetup(prefix: string): Promise<Owned> {
  const id = uniqueSuffix();
  const owned = { name: `${prefix}-${id}`, tenant: `${prefix}_${id}`, domain: `mail.${prefix}-${id}.test` };
  await c.createSetup(owned.name, { tenantName: owned.tenant, domainIdentity: owned.domain });
  created.push(owned.name);
  const withRecords = await waitUntil(`records of ${owned.name}`, async () => {
    const setup = await c.getSetup(owned.name);
    return setup?.status?.dnsRecords?.length === 5 ? setup : undefined;
  });
  await publish(withRecords);
  const setup = await waitReady(owned.name);
  return { ...owned, setup };
}

async function publish(setup: SesSetup): Promise<void> {
  await publishRecords(
    c.stack.dnsServer,
    setup.status!.dnsRecords!.map((record) => ({ name: record.name, type: record.type, value: record.value })),
  );
}

function waitReady(name: string): Promise<SesSetup> {
  return waitUntil(
    `${name} to be Ready`,
    async () => {
      const setup = await c.getSetup(name);
      return condition(setup, 'Ready')?.status === 'True' ? setup : undefined;
    },
    DETECTED,
  );
}

function waitCondition(name: string, type: string, status: string, reason: string): Promise<SesSetup> {
  return waitUntil(
    `${name} ${type}=${status} (${reason})`,
    async () => {
      const setup = await c.getSetup(name);
      const found = condition(setup, type);
      return found?.status === status && found.reason === reason ? setup : undefined;
    },
    DETECTED,
  );
}

async function eventsOf(name: string): Promise<{ type: string; reason: string; message: string }[]> {
  const { stdout } = await c.kubectl(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  return (JSON.parse(stdout) as { items: { type: string; reason: string; message: string }[] }).items;
}

async function waitEvent(name: string, reason: string): Promise<{ type: string; reason: string; message: string }> {
  return waitUntil(`a ${reason} Event on ${name}`, async () => (await eventsOf(name)).find((event) => event.reason === reason), DETECTED);
}

async function simTenant(name: string) {
  return (await c.sim.state()).tenants.find((tenant) => tenant.name === name && tenant.region === c.stack.region);
}

describe('drift: what the operator owns in SES, read back on the slow re-check (real API server, BIND, SES simulator)', () => {
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator(['--recheck-slow', `${SLOW_RECHECK_S}s`]);
  });
  afterAll(async () => {
    await Promise.all(created.map((name) => c.deleteSetup(name)));
    await waitUntil('the setups of this file to be gone', async () => {
      for (const name of created) if (await c.getSetup(name)) return false;
      return true;
    }).catch(() => undefined);
    await operator?.stop();
    outsider.destroy();
  });

  it('creates a tenant, an identity and an association deleted outside the operator again, tagged as before, with a Warning Event', async () => {
    const [a, b, d] = await Promise.all([readySetup('dt'), readySetup('di'), readySetup('da')]);

    await outsider.send(new DeleteTenantCommand({ TenantName: a.tenant }));
    await outsider.send(new DeleteEmailIdentityCommand({ EmailIdentity: b.domain }));
    await outsider.send(new DeleteTenantResourceAssociationCommand({ TenantName: d.tenant, ResourceArn: d.setup.status!.identity!.arn! }));

    const tenantEvent = await waitEvent(a.name, 'TenantRecreated');
    expect(tenantEvent).toMatchObject({ type: 'Warning' });
    expect(tenantEvent.message).toContain(`SES tenant ${a.tenant} was deleted outside the operator`);
    const identityEvent = await waitEvent(b.name, 'IdentityRecreated');
    expect(identityEvent.message).toMatch(/new DKIM tokens/);
    await waitEvent(d.name, 'AssociationRecreated');

    const state = await c.sim.state();
    const tenant = state.tenants.find((t) => t.name === a.tenant)!;
    expect(Object.fromEntries(tenant.tags.map((t) => [t.Key, t.Value]))[OWNER_UID_TAG]).toBe(a.setup.metadata.uid);
    const identity = state.identities.find((i) => i.name === b.domain)!;
    expect(Object.fromEntries(identity.tags.map((t) => [t.Key, t.Value]))[OWNER_UID_TAG]).toBe(b.setup.metadata.uid);
    for (const owned of [a, b, d]) {
      expect(state.associations.some((x) => x.tenantName === owned.tenant && x.resourceArn.endsWith(`identity/${owned.domain}`))).toBe(true);
    }
    // The recreated tenant and association need nothing from the customer: Ready again.
    await waitReady(a.name);
    await waitReady(d.name);
    // The recreated identity has new DKIM tokens: once they are published, Ready again.
    const renewed = await waitUntil(
      'new DKIM records of the recreated identity',
      async () => {
        const setup = await c.getSetup(b.name);
        return setup?.status?.identity?.dkimTokens?.[0] !== b.setup.status!.identity!.dkimTokens![0] && setup?.status?.dnsRecords?.length === 5
          ? setup
          : undefined;
      },
      DETECTED,
    );
    await publish(renewed);
    await waitReady(b.name);
  });

  it('reports an untagged tenant of the same name that replaced ours, and never touches it', async () => {
    const a = await readySetup('dr');
    await outsider.send(new DeleteTenantCommand({ TenantName: a.tenant }));
    await outsider.send(new CreateTenantCommand({ TenantName: a.tenant }));
    const foreign = (await simTenant(a.tenant))!;

    const setup = await waitCondition(a.name, 'TenantReady', 'False', 'TenantNotOwned');
    expect(condition(setup, 'TenantReady')!.message).toMatch(/replaced outside the operator.*no ses-operator owner tag.*Nothing was changed/);
    expect(condition(setup, 'Stalled')).toMatchObject({ status: 'True', reason: 'TenantNotOwned' });
    expect(condition(setup, 'Ready')?.status).toBe('False');
    expect((await eventsOf(a.name)).filter((event) => event.reason === 'TenantNotOwned').length).toBeGreaterThanOrEqual(1);

    const mark = await c.sim.mark();
    await sleep(2 * SLOW_RECHECK_S * 1000);
    const after = (await simTenant(a.tenant))!;
    expect(after).toMatchObject({ id: foreign.id, tags: [] });
    const writes = (await c.sim.calls(mark)).log.filter((call) => call.target === a.tenant && /^(Tag|Untag|Delete)/.test(call.operation));
    expect(writes).toEqual([]);

    await c.deleteSetup(a.name);
    await waitUntil(`${a.name} to be gone`, async () => (await c.getSetup(a.name)) === undefined);
    expect(await simTenant(a.tenant)).toMatchObject({ id: foreign.id });
    await outsider.send(new DeleteTenantCommand({ TenantName: a.tenant }));
  });

  it('shows a DKIM lapse on the DKIM records and drops Ready, and Ready again once the records are back', async () => {
    const a = await readySetup('dk');
    const dkim = a.setup.status!.dnsRecords!.filter((record) => record.purpose === 'DKIM');
    await removeRecords(c.stack.dnsServer, dkim);

    const lapsed = await waitUntil(
      `${a.name}'s DKIM records to show the lapse SES reports`,
      async () => {
        const setup = await c.getSetup(a.name);
        const records = setup?.status?.dnsRecords?.filter((record) => record.purpose === 'DKIM') ?? [];
        return records.length === 3 && records.every((record) => !record.verified && record.message.startsWith('SES reports DKIM TEMPORARY_FAILURE'))
          ? setup
          : undefined;
      },
      DETECTED,
    );
    expect(lapsed.status!.dnsRecords![0]!.message).toMatch(/not verified for sending.*fix it: NXDOMAIN/);
    expect(lapsed.status!.dnsVerified).toBe(false);
    expect(condition(lapsed, 'Ready')?.status).toBe('False');
    expect(lapsed.status!.dnsRecords!.filter((record) => record.purpose !== 'DKIM').every((record) => record.verified)).toBe(true);

    await publish(a.setup);
    await waitReady(a.name);
  });

  it('shows a tenant SES paused as TenantReady False (TenantPaused), and Ready again once SES reinstates it', async () => {
    const a = await readySetup('dp');
    await c.sim.setTenantSendingStatus(a.tenant, 'DISABLED', c.stack.region);
    const paused = await waitCondition(a.name, 'TenantReady', 'False', 'TenantPaused');
    expect(condition(paused, 'TenantReady')!.message).toMatch(/SES paused sending for tenant .*SES console.*AWS Support/);
    expect(condition(paused, 'Ready')).toMatchObject({ status: 'False', reason: 'TenantPaused' });
    await waitEvent(a.name, 'TenantPaused');

    await c.sim.setTenantSendingStatus(a.tenant, 'REINSTATED', c.stack.region);
    await waitReady(a.name);
    await waitEvent(a.name, 'TenantReinstated');
  });

  it('turns AccessDenied on one operation into Stalled naming the action and deploy/iam-policy.json, retries slowly, and recovers once granted', async () => {
    const a = await readySetup('dd');
    const rule = await c.sim.injectError({ operation: 'GetTenant', error: 'AccessDeniedException', resource: a.tenant });
    const denied = await waitCondition(a.name, 'Stalled', 'True', 'AccessDenied');
    expect(condition(denied, 'Stalled')!.message).toMatch(/SES denied ses:GetTenant .*Allow ses:GetTenant \(deploy\/iam-policy\.json/);
    expect(condition(denied, 'Ready')).toMatchObject({ status: 'False', reason: 'AccessDenied' });

    // No hot loop: over 8 s, about one try per slow retry (2 s here: --recheck-fast-max), not a burst.
    const mark = await c.sim.mark();
    await sleep(8_000);
    const tries = (await c.sim.calls(mark)).log.filter((call) => call.target === a.tenant);
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(tries.length).toBeLessThanOrEqual(6);
    expect((await eventsOf(a.name)).filter((event) => event.reason === 'AccessDenied').length).toBe(1);

    await c.sim.clearErrors(rule.id);
    const recovered = await waitReady(a.name);
    expect(condition(recovered, 'Stalled')).toBeUndefined();
  });
});

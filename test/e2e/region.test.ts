import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION_ANNOTATION, VERIFY_ANNOTATION } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import type { StateSnapshot } from '../../harness/simulator/state.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
let operator: OperatorProcess;

async function withRecords(name: string): Promise<SesSetup> {
  return waitUntil(`records in status of ${name}`, async () => {
    const setup = await c.getSetup(name);
    return setup?.status?.dnsRecords?.length === 5 ? setup : undefined;
  });
}

const mxOf = (setup: SesSetup | undefined) => setup?.status?.dnsRecords?.find((record) => record.purpose === 'MX')?.value;

/** Where the simulator holds a setup's tenant, identity and association: the regions of each, sorted. */
function regionsOf(state: StateSnapshot, tenantName: string, domain: string) {
  const sorted = (regions: string[]) => [...regions].sort();
  return {
    tenant: sorted(state.tenants.filter((t) => t.name === tenantName).map((t) => t.region)),
    identity: sorted(state.identities.filter((i) => i.name === domain).map((i) => i.region)),
    association: sorted(state.associations.filter((a) => a.tenantName === tenantName && a.resourceArn.endsWith(`:identity/${domain}`)).map((a) => a.region)),
  };
}

const only = (region: string) => ({ tenant: [region], identity: [region], association: [region] });
const nowhere = { tenant: [], identity: [], association: [] };

/** Three regions: the stack's default, one a setup names in spec.region, and the default the operator is restarted with. */
function threeRegions(first: string) {
  const others = ['eu-west-1', 'ap-southeast-2', 'us-west-2'].filter((region) => region !== first);
  return { first, pinned: others[0]!, restartedWith: others[1]! };
}

describe('the region a setup was created in (real API server, SES simulator with state per region)', () => {
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator();
  });
  afterAll(async () => operator?.stop());

  it('keeps every SES call of a setup in its own region across a restart with another default, check and teardown included', async () => {
    const id = uniqueSuffix();
    const { first, pinned, restartedWith } = threeRegions(c.stack.region);
    const named = { name: `named-${id}`, tenantName: `named_${id}`, domain: `mail.named-${id}.test` };
    const byDefault = { name: `dflt-${id}`, tenantName: `dflt_${id}`, domain: `mail.dflt-${id}.test` };
    const fresh = { name: `new-${id}`, tenantName: `new_${id}`, domain: `mail.new-${id}.test` };
    const since = await c.sim.mark();

    // Two regions at once: one setup names its region, the other takes the operator's default.
    await c.createSetup(named.name, { tenantName: named.tenantName, domainIdentity: named.domain, region: pinned });
    await c.createSetup(byDefault.name, { tenantName: byDefault.tenantName, domainIdentity: byDefault.domain });
    const [namedCreated, defaultCreated] = await Promise.all([withRecords(named.name), withRecords(byDefault.name)]);
    expect(namedCreated.status!.region).toBe(pinned);
    expect(defaultCreated.status!.region).toBe(first);
    // Pinned with the finalizer, before the first SES call; a setup naming its region needs no pin.
    expect(defaultCreated.metadata.annotations?.[REGION_ANNOTATION]).toBe(first);
    expect(namedCreated.metadata.annotations?.[REGION_ANNOTATION]).toBeUndefined();
    expect(mxOf(namedCreated)).toBe(`10 inbound-smtp.${pinned}.amazonaws.com`);
    expect(mxOf(defaultCreated)).toBe(`10 inbound-smtp.${first}.amazonaws.com`);
    let state = await c.sim.state();
    expect(regionsOf(state, named.tenantName, named.domain)).toEqual(only(pinned));
    expect(regionsOf(state, byDefault.tenantName, byDefault.domain)).toEqual(only(first));
    expect(state.tenants.find((t) => t.name === named.tenantName)?.arn).toMatch(new RegExp(`^arn:aws:ses:${pinned}:`));
    expect(state.tenants.find((t) => t.name === byDefault.tenantName)?.arn).toMatch(new RegExp(`^arn:aws:ses:${first}:`));

    // Another default region: the setup that took the old default must not follow it.
    await operator.stop();
    const restartedAt = await c.sim.mark();
    operator = await startOperator(['--region', restartedWith]);
    await c.createSetup(fresh.name, { tenantName: fresh.tenantName, domainIdentity: fresh.domain });
    const freshCreated = await withRecords(fresh.name);
    expect(freshCreated.status!.region).toBe(restartedWith);
    expect(mxOf(freshCreated)).toBe(`10 inbound-smtp.${restartedWith}.amazonaws.com`);

    // A fresh check of each old setup asks SES in the setup's own region, and moves nothing.
    for (const setup of [named, byDefault]) await c.kubectl(['annotate', '--overwrite', `sessetup/${setup.name}`, `${VERIFY_ANNOTATION}=req-${id}`]);
    const checked = await Promise.all(
      [named, byDefault].map((setup) =>
        waitUntil(`the verify request of ${setup.name} to be answered`, async () => {
          const found = await c.getSetup(setup.name);
          return found?.status?.lastHandledVerifyRequest === `req-${id}` ? found : undefined;
        }),
      ),
    );
    expect(checked.map((setup) => setup.status!.region)).toEqual([pinned, first]);
    expect(checked.map(mxOf)).toEqual([`10 inbound-smtp.${pinned}.amazonaws.com`, `10 inbound-smtp.${first}.amazonaws.com`]);
    state = await c.sim.state();
    expect(regionsOf(state, named.tenantName, named.domain)).toEqual(only(pinned));
    expect(regionsOf(state, byDefault.tenantName, byDefault.domain)).toEqual(only(first));
    expect(regionsOf(state, fresh.tenantName, fresh.domain)).toEqual(only(restartedWith));
    const afterRestart = (await c.sim.calls(restartedAt)).log;
    const targeting = (setup: typeof named) => afterRestart.filter((call) => call.target === setup.tenantName || call.target === setup.domain);
    expect(targeting(named).length, 'SES calls for the named-region setup after the restart').toBeGreaterThan(0);
    expect(targeting(byDefault).length, 'SES calls for the default-region setup after the restart').toBeGreaterThan(0);

    // Teardown in each setup's own region: nothing left anywhere.
    await Promise.all([named, byDefault, fresh].map((setup) => c.deleteSetup(setup.name)));
    await waitUntil('the three setups to be gone', async () =>
      (await Promise.all([named, byDefault, fresh].map((s) => c.getSetup(s.name)))).every((s) => s === undefined),
    );
    state = await c.sim.state();
    for (const setup of [named, byDefault, fresh]) expect(regionsOf(state, setup.tenantName, setup.domain), setup.name).toEqual(nowhere);

    // From the first call to the last, each setup's calls were signed for its own region only.
    const regionsCalled = (setup: typeof named, log: { target?: string; region: string }[]) =>
      [...new Set(log.filter((call) => call.target === setup.tenantName || call.target === setup.domain).map((call) => call.region))].sort();
    const all = (await c.sim.calls(since)).log;
    expect(regionsCalled(named, all)).toEqual([pinned]);
    expect(regionsCalled(byDefault, all)).toEqual([first]);
    expect(regionsCalled(fresh, all)).toEqual([restartedWith]);
    const deletedIn = (operation: string, target: string) =>
      all.filter((call) => call.operation === operation && call.target === target && call.status === 200).map((call) => call.region);
    expect(deletedIn('DeleteTenant', byDefault.tenantName)).toEqual([first]);
    expect(deletedIn('DeleteEmailIdentity', named.domain)).toEqual([pinned]);
  });
});

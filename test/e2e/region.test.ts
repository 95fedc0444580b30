import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERIFY_ANNOTATION } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
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

describe('the region a setup was created in (real API server, SES simulator)', () => {
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator();
  });
  afterAll(async () => operator?.stop());

  it('stays when the operator restarts with another default region; new setups take the new default', async () => {
    const id = uniqueSuffix();
    const first = c.stack.region;
    const second = first === 'eu-west-1' ? 'us-east-1' : 'eu-west-1';
    await c.createSetup(`old-${id}`, { tenantName: `old_${id}`, domainIdentity: `mail.old-${id}.test` });
    const created = await withRecords(`old-${id}`);
    expect(created.status!.region).toBe(first);
    expect(mxOf(created)).toBe(`10 inbound-smtp.${first}.amazonaws.com`);

    await operator.stop();
    operator = await startOperator(['--region', second]);
    await c.createSetup(`new-${id}`, { tenantName: `new_${id}`, domainIdentity: `mail.new-${id}.test` });
    const fresh = await withRecords(`new-${id}`);
    expect(fresh.status!.region).toBe(second);
    expect(mxOf(fresh)).toBe(`10 inbound-smtp.${second}.amazonaws.com`);

    // A fresh check of the old setup runs in its own region and asks for the same records.
    await c.kubectl(['annotate', '--overwrite', `sessetup/old-${id}`, `${VERIFY_ANNOTATION}=req-${id}`]);
    const checked = await waitUntil('the verify request to be answered', async () => {
      const found = await c.getSetup(`old-${id}`);
      return found?.status?.lastHandledVerifyRequest === `req-${id}` ? found : undefined;
    });
    expect(checked.status!.region).toBe(first);
    expect(mxOf(checked)).toBe(`10 inbound-smtp.${first}.amazonaws.com`);

    await c.deleteSetup(`old-${id}`);
    await c.deleteSetup(`new-${id}`);
    await waitUntil('both setups to be gone', async () => (await c.getSetup(`old-${id}`)) === undefined && (await c.getSetup(`new-${id}`)) === undefined);
    const state = await c.sim.state();
    expect(state.tenants.filter((t) => t.name === `old_${id}` || t.name === `new_${id}`)).toEqual([]);
    expect(state.identities.filter((i) => i.name === `mail.old-${id}.test` || i.name === `mail.new-${id}.test`)).toEqual([]);
  });
});

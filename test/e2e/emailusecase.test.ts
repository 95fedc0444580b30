import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
let operator: OperatorProcess;
const id = uniqueSuffix();
const ns = `team-${id}`;

async function readyCondition(name: string) {
  return condition(await c.getUseCase(ns, name), 'Ready');
}

describe('EmailUseCase and referrers end to end', () => {
  beforeAll(async () => {
    await c.installCrds();
    await c.ensureNamespace(ns);
    // ConfigMaps naming a setup in data.sesSetup count as referrers too.
    operator = await startOperator(['--referrer', '/v1/configmaps:data.sesSetup']);
  });
  afterAll(async () => operator?.stop());

  it('is Ready only when its setup exists, is Ready, and the from address is inside the domain', async () => {
    await c.createUseCase(ns, 'early', { sesSetupRef: { name: `euc-${id}` }, fromAddress: `news@mail.euc-${id}.test` });
    await c.createUseCase(ns, 'outside', { sesSetupRef: { name: `euc-${id}` }, fromAddress: `news@elsewhere-${id}.test` });
    const missing = await waitUntil('SetupNotFound', async () =>
      (await readyCondition('early'))?.reason === 'SetupNotFound' ? readyCondition('early') : undefined,
    );
    expect(missing).toMatchObject({ status: 'False', message: `SesSetup euc-${id} does not exist` });

    await c.createSetup(`euc-${id}`, { tenantName: `euc_${id}`, domainIdentity: `mail.euc-${id}.test` });
    const notReady = await waitUntil('SetupNotReady', async () =>
      (await readyCondition('early'))?.reason === 'SetupNotReady' ? readyCondition('early') : undefined,
    );
    expect(notReady?.status).toBe('False');
    const outside = await waitUntil('FromAddressOutsideDomain', async () =>
      (await readyCondition('outside'))?.reason === 'FromAddressOutsideDomain' ? readyCondition('outside') : undefined,
    );
    expect(outside?.message).toContain(`not inside mail.euc-${id}.test`);
    expect(condition(await c.getUseCase(ns, 'outside'), 'Stalled')?.status).toBe('True');

    const setup = await waitUntil('records', async () => {
      const found = await c.getSetup(`euc-${id}`);
      return found?.status?.dnsRecords?.length ? found : undefined;
    });
    await publishRecords(
      c.stack.dnsServer,
      (setup as SesSetup).status!.dnsRecords!.map((r) => ({ name: r.name, type: r.type, value: r.value })),
    );
    await c.kubectl(['wait', '--for=condition=Ready', `emailusecase/early`, '-n', ns, '--timeout=60s']);
    expect((await readyCondition('early'))?.message).toBe(`sending from news@mail.euc-${id}.test through SesSetup euc-${id}`);
    expect((await readyCondition('outside'))?.status).toBe('False');

    const usedBy = await waitUntil('usedBy', async () => {
      const found = await c.getSetup(`euc-${id}`);
      return found?.status?.usedByCount === 2 ? found.status.usedBy : undefined;
    });
    expect(usedBy).toEqual([`EmailUseCase ${ns}/early`, `EmailUseCase ${ns}/outside`]);
  });

  it('counts a configured referrer kind: deletion waits for a ConfigMap naming the setup', async () => {
    await c.createSetup(`cm-${id}`, { tenantName: `cm_${id}`, domainIdentity: `mail.cm-${id}.test` });
    await waitUntil('records', async () => (await c.getSetup(`cm-${id}`))?.status?.dnsRecords?.length);
    await c.createConfigMap(ns, 'mailer', { sesSetup: `cm-${id}` });
    await c.deleteSetup(`cm-${id}`);
    const blocked = await waitUntil('DeletionBlocked', async () => {
      const found = condition(await c.getSetup(`cm-${id}`), 'DeletionBlocked');
      return found?.status === 'True' ? found : undefined;
    });
    expect(blocked.message).toContain(`ConfigMap ${ns}/mailer`);
    // Pointing the ConfigMap elsewhere releases the setup, watch-driven.
    await c.updateConfigMapData(ns, 'mailer', { sesSetup: 'another' });
    await waitUntil('the setup to be gone', async () => (await c.getSetup(`cm-${id}`)) === undefined, { timeoutMs: 10_000 });
  });

  it('records what happened as events kubectl describe shows', async () => {
    const { stdout } = await c.kubectl(['describe', 'sessetup', `euc-${id}`]);
    expect(stdout).toMatch(/Normal\s+TenantReady\s+.*SES tenant euc_\S+ created/);
    expect(stdout).toMatch(/Normal\s+Verified\s+.*all 5 DNS records verified/);
  });

  it('logs JSON lines naming the object on every reconcile line', async () => {
    const lines = (await operator.logs()).filter((line) => line.msg === 'tenant ready' || line.msg === 'dns checked');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(typeof line.sessetup).toBe('string');
  });
});

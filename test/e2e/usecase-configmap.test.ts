import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { deleteNamespaceNow } from '../support/deploy.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

/**
 * Every EmailUseCase keeps a ConfigMap in its namespace with what an app needs to send through SES
 * for its tenant, owned by the use case, updated as the setup changes, and never one it does not own.
 */
const c = cluster();
const id = uniqueSuffix();
const ns = `configmap-${id}`;
const setupName = `cm-${id}`;
const domain = `mail.cm-${id}.test`;
let operator: OperatorProcess;

async function configMap(name: string) {
  return c.getConfigMap(ns, name);
}

describe('EmailUseCase ConfigMap', () => {
  beforeAll(async () => {
    await c.installCrds();
    await c.ensureNamespace(ns);
    operator = await startOperator();
  });

  afterAll(async () => {
    await c.kubectl(['delete', 'emailusecases', '--all', '-n', ns, '--ignore-not-found']);
    await c.deleteSetup(setupName);
    await waitUntil('the setup torn down', async () => (await c.getSetup(setupName)) === undefined, { timeoutMs: 30_000 }).catch(() => {});
    await operator?.stop();
    await c.kubectl(['delete', 'configmaps', '--all', '-n', ns, '--ignore-not-found']);
    await deleteNamespaceNow(ns);
  });

  it('writes <use case>-ses with region, tenant, identity ARN, from address and ready, owned by the use case; updates it when the setup turns Ready', async () => {
    await c.createSetup(setupName, { tenantName: `cm_${id}`, domainIdentity: domain });
    const useCase = await c.createUseCase(ns, 'invoices', { sesSetupRef: { name: setupName }, fromAddress: `invoices@${domain}` });
    const setup = (await waitUntil('the identity ARN and records in status', async () => {
      const s = await c.getSetup(setupName);
      return s?.status?.identity?.arn && s.status.dnsRecords?.length ? s : undefined;
    })) as SesSetup;
    const first = await waitUntil('the ConfigMap with the ARN', async () => {
      const cm = await configMap('invoices-ses');
      return cm?.data?.SES_IDENTITY_ARN ? cm : undefined;
    });
    expect(first.data).toEqual({
      AWS_REGION: c.stack.region,
      SES_TENANT_NAME: `cm_${id}`,
      SES_IDENTITY_ARN: setup.status!.identity!.arn,
      SES_FROM_ADDRESS: `invoices@${domain}`,
      SES_READY: 'false',
      SES_SETUP: setupName,
    });
    expect(first.metadata?.ownerReferences).toEqual([
      { apiVersion: 'ses.channels.dev/v1alpha1', kind: 'EmailUseCase', name: 'invoices', uid: useCase.metadata.uid, controller: true },
    ]);
    // The status that reports the ConfigMap is written right after it.
    const written = await waitUntil('ConfigMapReady in status', async () => condition(await c.getUseCase(ns, 'invoices'), 'ConfigMapReady'));
    expect(written).toMatchObject({ status: 'True', reason: 'ConfigMapWritten' });

    await publishRecords(
      c.stack.dnsServer,
      setup.status!.dnsRecords!.map((r) => ({ name: r.name, type: r.type, value: r.value })),
    );
    await c.sim.dkimCheck();
    await waitUntil('SES_READY true once the setup and use case are Ready', async () => (await configMap('invoices-ses'))?.data?.SES_READY === 'true', {
      timeoutMs: 60_000,
    });
    // The use case's status is written right after its ConfigMap.
    await waitUntil('the use case Ready', async () => condition(await c.getUseCase(ns, 'invoices'), 'Ready')?.status === 'True');
  });

  it('follows spec changes: a new from address, and spec.configMapName for another name', async () => {
    await c.kubectl(['patch', 'emailusecase', 'invoices', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { fromAddress: `billing@${domain}` } })]);
    await waitUntil('the new from address', async () => (await configMap('invoices-ses'))?.data?.SES_FROM_ADDRESS === `billing@${domain}`);
    await c.createUseCase(ns, 'alerts', { sesSetupRef: { name: setupName }, fromAddress: `alerts@${domain}`, configMapName: 'alerts-mail-settings' });
    const named = await waitUntil('the named ConfigMap', async () => configMap('alerts-mail-settings'));
    expect(named.data).toMatchObject({ SES_FROM_ADDRESS: `alerts@${domain}`, SES_TENANT_NAME: `cm_${id}` });
    expect(await configMap('alerts-ses')).toBeUndefined();
  });

  it('never overwrites a ConfigMap it does not own: the ConfigMapReady condition says so', async () => {
    await c.createConfigMap(ns, 'receipts-ses', { owner: 'someone else' });
    await c.createUseCase(ns, 'receipts', { sesSetupRef: { name: setupName }, fromAddress: `receipts@${domain}` });
    const refused = await waitUntil('ConfigMapNotOwned', async () => {
      const found = condition(await c.getUseCase(ns, 'receipts'), 'ConfigMapReady');
      return found?.reason === 'ConfigMapNotOwned' ? found : undefined;
    });
    expect(refused.status).toBe('False');
    expect(refused.message).toContain(`ConfigMap ${ns}/receipts-ses exists and is not owned by this EmailUseCase`);
    const untouched = await configMap('receipts-ses');
    expect(untouched?.data).toEqual({ owner: 'someone else' });
    expect(untouched?.metadata?.ownerReferences).toBeUndefined();
  });

  it('refuses a configMapName that is not a DNS name at the API server', async () => {
    await expect(c.createUseCase(ns, 'bad', { sesSetupRef: { name: setupName }, fromAddress: `bad@${domain}`, configMapName: 'Not_A_Name' })).rejects.toThrow(
      /configMapName/,
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { deleteNamespaceNow } from '../support/deploy.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

/**
 * Namespaces fenced (spec.allowedNamespaces), against the real API server: the CRD's rules, a
 * use case from a namespace the selector does not match (refused, not counted, not holding the
 * deletion), and namespace labels and the selector changed live, one operator process throughout.
 */
const c = cluster();
const id = uniqueSuffix();
const billing = `billing-${id}`;
const shop = `shop-${id}`;
const setupName = `fenced-${id}`;
const domain = `mail.fenced-${id}.test`;
let operator: OperatorProcess;

const useCaseReady = async (namespace: string, name: string) => condition(await c.getUseCase(namespace, name), 'Ready');
const usedBy = async () => (await c.getSetup(setupName))?.status;

const patchSetupSpec = (spec: Record<string, unknown>) => c.patchSetupSpec(setupName, spec);

describe('SesSetup spec.allowedNamespaces', () => {
  beforeAll(async () => {
    await c.installCrds();
    await c.ensureNamespace(billing);
    await c.labelNamespace(billing, { team: 'billing' });
    await c.ensureNamespace(shop);
    // ConfigMaps naming a setup count as referrers too: the fence applies to them the same way.
    operator = await startOperator(['--referrer', '/v1/configmaps:data.sesSetup']);
  });

  afterAll(async () => {
    await operator?.stop();
    for (const namespace of [billing, shop])
      await c.kubectl(['delete', 'emailusecases,configmaps', '--all', '-n', namespace, '--ignore-not-found']).catch(() => {});
    await c.clearSetupFinalizers(setupName).catch(() => {});
    await c.deleteSetup(setupName);
    for (const namespace of [billing, shop]) await deleteNamespaceNow(namespace);
  });

  it('the API server refuses a Selector without selector, a selector with All, and malformed requirements; from defaults to All', async () => {
    // Server-side dry runs: nothing is stored, so nothing reaches SES.
    const dryRun = (allowedNamespaces: unknown) =>
      c.kubectl(
        ['create', '--dry-run=server', '-o', 'json', '-f', '-'],
        JSON.stringify({
          apiVersion: 'ses.channels.dev/v1alpha1',
          kind: 'SesSetup',
          metadata: { name: `dry-${id}` },
          spec: { tenantName: `dry_${id}`, domainIdentity: `mail.dry-${id}.test`, allowedNamespaces },
        }),
      );
    const refused = (allowedNamespaces: unknown) =>
      dryRun(allowedNamespaces).then(
        () => 'accepted',
        (error: Error) => error.message,
      );
    expect(await refused({ from: 'Selector' })).toContain('selector is required when from is Selector');
    expect(await refused({ from: 'All', selector: { matchLabels: { team: 'billing' } } })).toContain(
      'selector is required when from is Selector, and not allowed otherwise',
    );
    expect(await refused({ from: 'Same' })).toMatch(/Unsupported value: "Same"/);
    expect(await refused({ from: 'Selector', selector: { matchExpressions: [{ key: 'team', operator: 'In' }] } })).toContain(
      'values must be non-empty for In and NotIn',
    );
    expect(await refused({ from: 'Selector', selector: { matchExpressions: [{ key: 'team', operator: 'Exists', values: ['x'] }] } })).toContain(
      'empty for Exists and DoesNotExist',
    );
    expect(await refused({ from: 'Selector', selector: { matchLabels: { 'bad key': 'x' } } })).toContain('every matchLabels key must be a valid label key');
    expect(await refused({ from: 'Selector', selector: { matchLabels: { team: 'not a value' } } })).toContain(
      'spec.allowedNamespaces.selector.matchLabels.team',
    );
    expect(await refused({ from: 'Selector', selector: { matchLabels: { 'example.com/team': 'billing' } } })).toBe('accepted');
    const defaulted = JSON.parse((await dryRun({})).stdout) as SesSetup;
    expect(defaulted.spec.allowedNamespaces).toEqual({ from: 'All' });
  });

  it('a use case from an allowed namespace is Ready and counted; one from another namespace is Stalled with NamespaceNotAllowed and not counted', async () => {
    await c.createSetup(setupName, {
      tenantName: `fenced_${id}`,
      domainIdentity: domain,
      allowedNamespaces: { from: 'Selector', selector: { matchLabels: { team: 'billing' } } },
    });
    await c.createUseCase(billing, 'invoices', { sesSetupRef: { name: setupName }, fromAddress: `invoices@${domain}` });
    await c.createUseCase(shop, 'orders', { sesSetupRef: { name: setupName }, fromAddress: `orders@${domain}` });
    await c.createConfigMap(shop, 'mailer', { sesSetup: setupName });

    const refused = await waitUntil('NamespaceNotAllowed', async () => {
      const ready = await useCaseReady(shop, 'orders');
      return ready?.reason === 'NamespaceNotAllowed' ? ready : undefined;
    });
    expect(refused.status).toBe('False');
    expect(refused.message).toBe(
      `namespace ${shop} is not allowed to use SesSetup ${setupName}: its spec.allowedNamespaces admits only namespaces whose labels match "team=billing"; label the namespace to match, or change the setup's allowedNamespaces`,
    );
    expect(condition(await c.getUseCase(shop, 'orders'), 'Stalled')).toMatchObject({ status: 'True', reason: 'NamespaceNotAllowed' });

    const setup = await waitUntil('records', async () => {
      const found = await c.getSetup(setupName);
      return found?.status?.dnsRecords?.length ? found : undefined;
    });
    await publishRecords(
      c.stack.dnsServer,
      (setup as SesSetup).status!.dnsRecords!.map((r) => ({ name: r.name, type: r.type, value: r.value })),
    );
    await c.kubectl(['wait', '--for=condition=Ready', 'emailusecase/invoices', '-n', billing, '--timeout=60s']);
    const status = await waitUntil('usedBy of the allowed use case only', async () => {
      const found = await usedBy();
      return found?.usedByCount === 1 ? found : undefined;
    });
    expect(status.usedBy).toEqual([`EmailUseCase ${billing}/invoices`]);
    // Ready does not let the refused use case through.
    expect((await useCaseReady(shop, 'orders'))?.reason).toBe('NamespaceNotAllowed');
  });

  it('relabelling the namespace admits its use case and ConfigMap at once, without a restart', async () => {
    await c.labelNamespace(shop, { team: 'billing' });
    await waitUntil('orders to be Ready', async () => (await useCaseReady(shop, 'orders'))?.status === 'True');
    expect(condition(await c.getUseCase(shop, 'orders'), 'Stalled')).toBeUndefined();
    const status = await waitUntil('3 referrers counted', async () => {
      const found = await usedBy();
      return found?.usedByCount === 3 ? found : undefined;
    });
    expect(status.usedBy).toEqual([`ConfigMap ${shop}/mailer`, `EmailUseCase ${billing}/invoices`, `EmailUseCase ${shop}/orders`]);

    // And back: the label removed refuses them again.
    await c.labelNamespace(shop, { team: null });
    await waitUntil('orders refused again', async () => (await useCaseReady(shop, 'orders'))?.reason === 'NamespaceNotAllowed');
    await waitUntil('1 referrer counted', async () => (await usedBy())?.usedByCount === 1);
  });

  it('changing the selector takes effect for the use cases that exist', async () => {
    // By name (the label the API server puts on every namespace): shop only.
    await patchSetupSpec({
      allowedNamespaces: {
        from: 'Selector',
        selector: { matchLabels: null, matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [shop] }] },
      },
    });
    await waitUntil('orders to be Ready', async () => (await useCaseReady(shop, 'orders'))?.status === 'True');
    const refused = await waitUntil('invoices refused', async () => {
      const ready = await useCaseReady(billing, 'invoices');
      return ready?.reason === 'NamespaceNotAllowed' ? ready : undefined;
    });
    expect(refused.message).toContain(`"kubernetes.io/metadata.name in (${shop})"`);
    const status = await waitUntil('shop referrers counted', async () => {
      const found = await usedBy();
      return found?.usedByCount === 2 ? found : undefined;
    });
    expect(status.usedBy).toEqual([`ConfigMap ${shop}/mailer`, `EmailUseCase ${shop}/orders`]);

    // from: All is the open door again.
    await patchSetupSpec({ allowedNamespaces: { from: 'All', selector: null } });
    await waitUntil('invoices Ready again', async () => (await useCaseReady(billing, 'invoices'))?.status === 'True');
    await waitUntil('every referrer counted', async () => (await usedBy())?.usedByCount === 3);
  });

  it('a use case from a namespace not allowed does not hold the deletion', async () => {
    await patchSetupSpec({ allowedNamespaces: { from: 'Selector', selector: { matchLabels: { team: 'billing' } } } });
    await waitUntil('orders refused', async () => (await useCaseReady(shop, 'orders'))?.reason === 'NamespaceNotAllowed');
    await c.deleteSetup(setupName);
    const blocked = await waitUntil('DeletionBlocked', async () => condition(await c.getSetup(setupName), 'DeletionBlocked'));
    expect(blocked.message).toBe(`deletion waits for 1 referrer(s) to be deleted: EmailUseCase ${billing}/invoices`);
    await c.deleteUseCase(billing, 'invoices');
    // orders and the ConfigMap still name the setup, from a namespace it does not allow.
    await waitUntil('the setup to be gone', async () => (await c.getSetup(setupName)) === undefined, { timeoutMs: 30_000 });
    expect(await c.getUseCase(shop, 'orders')).toBeDefined();
    const after = await waitUntil('SetupNotFound', async () => {
      const ready = await useCaseReady(shop, 'orders');
      return ready?.reason === 'SetupNotFound' ? ready : undefined;
    });
    expect(after.status).toBe('False');
    expect(JSON.stringify(await c.sim.state())).not.toContain(`fenced_${id}`);
  });

  it('ran as one operator process throughout', async () => {
    const logs = await operator.logs();
    expect(logs.filter((line) => line.msg === 'running')).toHaveLength(1);
    expect(logs.filter((line) => line.informer === '/api/v1/namespaces' && Number(line.level) >= 40)).toEqual([]);
  });
});

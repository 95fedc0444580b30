import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespaceNow, KUSTOMIZE_BASE } from '../support/deploy.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

/**
 * deploy/'s ValidatingAdmissionPolicy on the real kube-apiserver: `kubectl delete` of a SesSetup
 * in use fails at once with a message naming how many use it and the first; once the use case is
 * gone and the operator's status no longer counts it, the same delete goes through.
 */
const c = cluster();
const id = uniqueSuffix();
const ns = `admission-${id}`;
const name = `admission-${id}`;
const domain = `mail.admission-${id}.test`;
let operator: OperatorProcess;

describe('deploy/: deletes of a SesSetup in use refused at the door', () => {
  beforeAll(async () => {
    await c.installCrds();
    await c.ensureNamespace(ns);
    await c.kubectl(['apply', '-f', join(KUSTOMIZE_BASE, 'deletion-policy.yaml')]);
    operator = await startOperator();
  });

  afterAll(async () => {
    await c.deleteUseCase(ns, 'invoices');
    await c.deleteUseCase(ns, 'receipts');
    // After a failed test the status may still count a use case for a moment: the policy refuses
    // until the operator has caught up, so the delete is tried again while it is refused.
    await waitUntil('the setup delete accepted', () => c.deleteSetup(name).then(() => true), { timeoutMs: 30_000 }).catch(() => {});
    // The policy stays for no other test file: they expect the finalizer alone to hold deletes.
    await c.kubectl(['delete', '-f', join(KUSTOMIZE_BASE, 'deletion-policy.yaml'), '--ignore-not-found']);
    await waitUntil('the setup torn down', async () => (await c.getSetup(name)) === undefined, { timeoutMs: 30_000 }).catch(() => {});
    await operator?.stop();
    await deleteNamespaceNow(ns);
  });

  it('refuses kubectl delete while use cases are counted, naming how many and the first; lets it through once none is left', async () => {
    await c.createSetup(name, { tenantName: `admission_${id}`, domainIdentity: domain });
    await c.createUseCase(ns, 'invoices', { sesSetupRef: { name }, fromAddress: `invoices@${domain}` });
    await c.createUseCase(ns, 'receipts', { sesSetupRef: { name }, fromAddress: `receipts@${domain}` });
    await waitUntil('both use cases counted in status', async () => (await c.getSetup(name))?.status?.usedByCount === 2);
    // The policy is in force once the API server has loaded it (seconds after it is created). Until
    // then a delete goes through, so the wait probes with a server-side dry run, which passes
    // admission like the real delete but changes nothing.
    await waitUntil('a dry-run delete to be refused', () =>
      c.kubectl(['delete', 'sessetup', name, '--dry-run=server']).then(
        () => false,
        (error: Error) => /Forbidden/.test(error.message),
      ),
    );
    const refusal = await c.kubectl(['delete', 'sessetup', name, '--wait=false']).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refusal).toMatch(/Forbidden/);
    expect(refusal).toContain(`ValidatingAdmissionPolicy 'ses-operator-sessetup-in-use'`);
    expect(refusal).toContain(`SesSetup ${name} is used by 2 (first: EmailUseCase ${ns}/invoices)`);
    const still = await c.getSetup(name);
    expect(still?.metadata.deletionTimestamp).toBeUndefined();

    await c.deleteUseCase(ns, 'invoices');
    await waitUntil('one use case counted', async () => (await c.getSetup(name))?.status?.usedByCount === 1);
    await expect(c.kubectl(['delete', 'sessetup', name, '--wait=false'])).rejects.toThrow(`is used by 1 (first: EmailUseCase ${ns}/receipts)`);

    await c.deleteUseCase(ns, 'receipts');
    await waitUntil('status to drop usedBy', async () => {
      const status = (await c.getSetup(name))?.status;
      return status !== undefined && (status.usedByCount ?? 0) === 0;
    });
    const { stdout } = await c.kubectl(['delete', 'sessetup', name, '--wait=false']);
    expect(stdout).toContain(`sessetup.ses.channels.dev "${name}" deleted`);
    await waitUntil('the setup torn down', async () => (await c.getSetup(name)) === undefined, { timeoutMs: 30_000 });
  });
});

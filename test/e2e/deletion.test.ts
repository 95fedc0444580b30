import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FINALIZER } from '../../src/api/group.ts';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
let operator: OperatorProcess;

type Schema = { properties: Record<string, Schema>; pattern?: string };

/**
 * Today's SesSetup CRD with some field patterns removed: the looser schema an object may have
 * been stored under (an older release, a rule tightened since).
 */
async function installLooserCrd(loosen: (spec: Schema) => void): Promise<void> {
  const crd = parse(await readFile(join(PROJECT_ROOT, 'crds/sessetups.ses.channels.dev.yaml'), 'utf8'));
  loosen(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec);
  await c.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(crd));
  await c.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/sessetups.ses.channels.dev']);
}

describe('deletion never sticks (real API server, SES simulator)', () => {
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator();
  });
  afterAll(async () => {
    await c.installCrds(); // today's CRD for whatever runs next, even after a failure
    await operator?.stop();
  });

  it('deletes a stored object that fails the tightened CRD, tearing down what status recorded in SES', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`loose-${id}`, {
      tenantName: `loose_${id}`,
      domainIdentity: `mail.loose-${id}.test`,
      dmarc: { policy: 'none', reportingAddress: `mailto:dmarc@loose-${id}.test` },
    });
    await waitUntil('SES resources in status', async () => (await c.getSetup(`loose-${id}`))?.status?.identity?.tenantAssociated);
    expect((await c.sim.state()).tenants.some((t) => t.name === `loose_${id}`)).toBe(true);

    // Under a looser rule the spec took a value today's schema refuses; then the rule is tightened again.
    await installLooserCrd((spec) => delete spec.properties.dmarc!.properties.reportingAddress!.pattern);
    await c.kubectl(['patch', 'sessetup', `loose-${id}`, '--type=merge', '-p', JSON.stringify({ spec: { dmarc: { reportingAddress: 'reports, please' } } })]);
    await c.installCrds();
    const invalid = await waitUntil('InvalidSpec', async () => {
      const found = condition(await c.getSetup(`loose-${id}`), 'Stalled');
      return found?.reason === 'InvalidSpec' ? found : undefined;
    });
    expect(invalid.message).toContain('spec.dmarc.reportingAddress');

    await c.deleteSetup(`loose-${id}`);
    await waitUntil('the setup to be gone', async () => (await c.getSetup(`loose-${id}`)) === undefined);
    const state = await c.sim.state();
    expect(state.tenants.some((t) => t.name === `loose_${id}`)).toBe(false);
    expect(state.identities.some((i) => i.name === `mail.loose-${id}.test`)).toBe(false);
  });

  it("releases the finalizer of an object stored with a tenantName today's CRD refuses", async () => {
    const id = uniqueSuffix();
    await installLooserCrd((spec) => delete spec.properties.tenantName!.pattern);
    // The finalizer an earlier release added; the name has a dot, which today's pattern refuses.
    await c.createSetup(`dotted-${id}`, { tenantName: `dotted.${id}`, domainIdentity: `mail.dotted-${id}.test` }, { finalizers: [FINALIZER] });
    await c.installCrds();
    await waitUntil('InvalidSpec', async () => condition(await c.getSetup(`dotted-${id}`), 'Stalled')?.reason === 'InvalidSpec');

    await c.deleteSetup(`dotted-${id}`);
    await waitUntil('the setup to be gone', async () => (await c.getSetup(`dotted-${id}`)) === undefined);
  });

  it('keeps observedGeneration equal to metadata.generation while an EmailUseCase blocks the deletion', async () => {
    const id = uniqueSuffix();
    await c.ensureNamespace(`pin-${id}`);
    await c.createSetup(`blk-${id}`, { tenantName: `blk_${id}`, domainIdentity: `mail.blk-${id}.test` });
    await waitUntil('records in status', async () => (await c.getSetup(`blk-${id}`))?.status?.dnsRecords?.length === 5);
    await c.createUseCase(`pin-${id}`, 'mailer', { sesSetupRef: { name: `blk-${id}` }, fromAddress: `app@mail.blk-${id}.test` });
    await waitUntil('usedBy', async () => (await c.getSetup(`blk-${id}`))?.status?.usedByCount === 1);

    await c.deleteSetup(`blk-${id}`);
    const blocked = await waitUntil('DeletionBlocked', async () => {
      const found = await c.getSetup(`blk-${id}`);
      return condition(found, 'DeletionBlocked')?.status === 'True' ? found : undefined;
    });
    expect(blocked.metadata.generation).toBeGreaterThan(1); // the DELETE moved it
    expect(blocked.status!.observedGeneration).toBe(blocked.metadata.generation);
    expect(blocked.status!.conditions!.find((x) => x.type === 'DeletionBlocked')!.observedGeneration).toBe(blocked.metadata.generation);

    await c.deleteUseCase(`pin-${id}`, 'mailer');
    await waitUntil('the setup to be gone', async () => (await c.getSetup(`blk-${id}`)) === undefined);
  });
});

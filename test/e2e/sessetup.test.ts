import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_UID_TAG, VERIFY_ANNOTATION } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const run = promisify(execFile);
const c = cluster();
let operator: OperatorProcess;

/** Publishes a setup's records exactly as status asks, the way a customer would at their DNS host. */
async function publish(setup: SesSetup, override: Record<string, string> = {}): Promise<void> {
  const records = setup.status?.dnsRecords ?? [];
  await publishRecords(
    c.stack.dnsServer,
    records.map((r) => ({ name: r.name, type: r.type, value: override[r.name] ?? r.value })),
  );
}

async function withRecords(name: string): Promise<SesSetup> {
  return waitUntil(`records in status of ${name}`, async () => {
    const setup = await c.getSetup(name);
    return setup?.status?.dnsRecords?.length === 5 ? setup : undefined;
  });
}

function tagsOf(tags: { Key: string; Value: string }[]): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
}

describe('SesSetup end to end (real API server, BIND, SES simulator through the AWS SDK)', () => {
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator();
  });
  afterAll(async () => operator?.stop());

  it('shows the five DNS records in status within seconds of apply, with exactly three SES calls', async () => {
    const id = uniqueSuffix();
    const before = await c.sim.calls();
    const started = Date.now();
    await c.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: ses.channels.dev/v1alpha1
kind: SesSetup
metadata: {name: rec-${id}}
spec: {tenantName: rec_${id}, domainIdentity: mail.rec-${id}.test}
`,
    );
    const setup = await withRecords(`rec-${id}`);
    expect(Date.now() - started).toBeLessThan(5_000);
    const records = setup.status!.dnsRecords!;
    expect(records.map((r) => [r.purpose, r.type])).toEqual([
      ['DKIM', 'CNAME'],
      ['DKIM', 'CNAME'],
      ['DKIM', 'CNAME'],
      ['MX', 'MX'],
      ['DMARC', 'TXT'],
    ]);
    const tokens = setup.status!.identity!.dkimTokens!;
    expect(records.slice(0, 3).map((r) => r.name)).toEqual(tokens.map((t) => `${t}._domainkey.mail.rec-${id}.test`));
    expect(records.slice(0, 3).map((r) => r.value)).toEqual(tokens.map((t) => `${t}.dkim.amazonses.com`));
    expect(records[3]).toMatchObject({ name: `mail.rec-${id}.test`, value: `10 inbound-smtp.${c.stack.region}.amazonaws.com`, verified: false });
    expect(records[4]).toMatchObject({ name: `_dmarc.mail.rec-${id}.test`, value: 'v=DMARC1; p=none;', verified: false });
    expect(records[4]!.message).toContain('NXDOMAIN');
    const after = await c.sim.calls();
    const mine = after.log.filter((call) => call.seq > before.total && (call.target === `rec_${id}` || call.target === `mail.rec-${id}.test`));
    expect(mine.map((call) => call.operation).sort()).toEqual(['CreateEmailIdentity', 'CreateTenant', 'CreateTenantResourceAssociation']);
    const state = await c.sim.state();
    expect(tagsOf(state.tenants.find((t) => t.name === `rec_${id}`)!.tags)[OWNER_UID_TAG]).toBe(setup.metadata.uid);
    expect(state.associations.some((a) => a.tenantName === `rec_${id}` && a.resourceArn.endsWith(`identity/mail.rec-${id}.test`))).toBe(true);
  });

  it('turns Ready once the records are published, and kubectl wait returns', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`ok-${id}`, {
      tenantName: `ok_${id}`,
      domainIdentity: `mail.ok-${id}.test`,
      dmarc: { policy: 'quarantine', reportingAddress: `mailto:dmarc@ok-${id}.test` },
    });
    const setup = await withRecords(`ok-${id}`);
    expect(setup.status!.dnsRecords![4]!.value).toBe(`v=DMARC1; p=quarantine; rua=mailto:dmarc@ok-${id}.test;`);
    await publish(setup);
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/ok-${id}`, '--timeout=60s']);
    const ready = (await c.getSetup(`ok-${id}`))!;
    expect(ready.status!.dnsVerified).toBe(true);
    expect(ready.status!.dnsRecords!.every((r) => r.verified && r.message === '')).toBe(true);
    expect(ready.status!.identity!.dkimStatus).toBe('SUCCESS');
    expect(condition(ready, 'Reconciling')).toBeUndefined();
    // The operator never writes spec (no perpetual diff in Argo CD): the generation is still the first.
    expect(ready.metadata.generation).toBe(1);
    expect(ready.status!.observedGeneration).toBe(1);
    const { stdout } = await c.kubectl(['get', 'ses', `ok-${id}`, '--no-headers']);
    expect(stdout.trim().split(/\s+/).slice(0, 5)).toEqual([`ok-${id}`, `ok_${id}`, `mail.ok-${id}.test`, 'true', 'True']);
  });

  it('names a wrong DKIM target and what was found', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`wrong-${id}`, { tenantName: `wrong_${id}`, domainIdentity: `mail.wrong-${id}.test` });
    const setup = await withRecords(`wrong-${id}`);
    const dkim = setup.status!.dnsRecords![0]!;
    await publish(setup, { [dkim.name]: `elsewhere.wrong-${id}.test` });
    const reported = await waitUntil('the wrong target to be reported', async () => {
      const record = (await c.getSetup(`wrong-${id}`))?.status?.dnsRecords?.[0];
      return record?.observed.length ? record : undefined;
    });
    expect(reported.verified).toBe(false);
    expect(reported.observed).toEqual([`elsewhere.wrong-${id}.test`]);
    expect(reported.message).toBe(`wrong target: ${dkim.name} points to elsewhere.wrong-${id}.test, expected ${dkim.value}`);
    expect(condition(await c.getSetup(`wrong-${id}`), 'Ready')?.status).toBe('False');
  });

  it('answers a new verify annotation with a fresh check within 2 s', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`ann-${id}`, { tenantName: `ann_${id}`, domainIdentity: `mail.ann-${id}.test` });
    const setup = await withRecords(`ann-${id}`);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // let dnsCheckedAt (ms resolution) age visibly
    const started = Date.now();
    await c.kubectl(['annotate', '--overwrite', `sessetup/ann-${id}`, `${VERIFY_ANNOTATION}=req-${id}`]);
    const answered = await waitUntil(
      'the verify request to be echoed',
      async () => {
        const found = await c.getSetup(`ann-${id}`);
        return found?.status?.lastHandledVerifyRequest === `req-${id}` ? found : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 20 },
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(Date.parse(answered.status!.dnsCheckedAt!)).toBeGreaterThan(Date.parse(setup.status!.dnsCheckedAt!));
    expect(Date.parse(answered.status!.dnsCheckedAt!)).toBeGreaterThanOrEqual(started - 1_000);
  });

  it('has a verify command that waits for the fresh result and prints the records as a table', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`ver-${id}`, { tenantName: `ver_${id}`, domainIdentity: `mail.ver-${id}.test` });
    await withRecords(`ver-${id}`);
    const cli = [join(PROJECT_ROOT, 'src/cli/main.ts'), 'verify', `ver-${id}`, '--kubeconfig', c.stack.kubeconfig];
    const result = await run(process.execPath, cli).catch((error: { code: number; stdout: string }) => error);
    expect('code' in result ? result.code : 0).toBe(1); // exit code 1: not verified yet
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^PURPOSE\s+TYPE\s+NAME\s+VALUE\s+VERIFIED\s+DETAIL$/);
    expect(lines.filter((line) => /^(DKIM|MX|DMARC)\s/.test(line))).toHaveLength(5);
    expect(result.stdout).toContain(`DMARC    TXT    _dmarc.mail.ver-${id}.test`);
    expect(result.stdout).toContain(`SesSetup ver-${id}: not verified yet`);
    const after = (await c.getSetup(`ver-${id}`))!;
    expect(after.status!.lastHandledVerifyRequest).toBe(after.metadata.annotations![VERIFY_ANNOTATION]);

    await publish(after);
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/ver-${id}`, '--timeout=60s']);
    const verified = await run(process.execPath, [...cli, '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({ name: `ver-${id}`, dnsVerified: true });
  });

  it('blocks deletion while an EmailUseCase references the setup, names it, and finishes as soon as it is gone', async () => {
    const id = uniqueSuffix();
    await c.ensureNamespace(`billing-${id}`);
    await c.createSetup(`del-${id}`, { tenantName: `del_${id}`, domainIdentity: `mail.del-${id}.test` });
    await withRecords(`del-${id}`);
    await c.createUseCase(`billing-${id}`, 'invoices', { sesSetupRef: { name: `del-${id}` }, fromAddress: `invoices@mail.del-${id}.test` });
    await waitUntil('usedBy', async () => (await c.getSetup(`del-${id}`))?.status?.usedBy?.includes(`EmailUseCase billing-${id}/invoices`));
    expect((await c.getSetup(`del-${id}`))!.status!.usedByCount).toBe(1);

    await c.deleteSetup(`del-${id}`);
    const blocked = await waitUntil('DeletionBlocked', async () => {
      const found = condition(await c.getSetup(`del-${id}`), 'DeletionBlocked');
      return found?.status === 'True' ? found : undefined;
    });
    expect(blocked.message).toContain(`EmailUseCase billing-${id}/invoices`);
    const { stdout: events } = await c.kubectl([
      'get',
      'events',
      '-A',
      '--field-selector',
      `involvedObject.name=del-${id},reason=DeletionBlocked`,
      '-o',
      'jsonpath={.items[*].type}',
    ]);
    expect(events).toContain('Warning');
    let state = await c.sim.state();
    expect(state.tenants.some((t) => t.name === `del_${id}`)).toBe(true);

    const useCaseGone = Date.now();
    await c.deleteUseCase(`billing-${id}`, 'invoices');
    await waitUntil('the setup to be gone', async () => (await c.getSetup(`del-${id}`)) === undefined, { timeoutMs: 10_000, intervalMs: 50 });
    expect(Date.now() - useCaseGone).toBeLessThan(5_000);
    state = await c.sim.state();
    expect(state.tenants.some((t) => t.name === `del_${id}`)).toBe(false);
    expect(state.identities.some((i) => i.name === `mail.del-${id}.test`)).toBe(false);
    expect(state.associations.some((a) => a.tenantName === `del_${id}`)).toBe(false);
  });

  it("adds and removes its finalizer without touching another controller's", async () => {
    const id = uniqueSuffix();
    await c.createSetup(`fin-${id}`, { tenantName: `fin_${id}`, domainIdentity: `mail.fin-${id}.test` }, { finalizers: ['example.com/other'] });
    const setup = await withRecords(`fin-${id}`);
    expect(setup.metadata.finalizers).toEqual(['example.com/other', 'ses.channels.dev/finalizer']);
    await c.deleteSetup(`fin-${id}`);
    const released = await waitUntil('our finalizer to go', async () => {
      const found = await c.getSetup(`fin-${id}`);
      return found?.metadata.finalizers?.length === 1 ? found : undefined;
    });
    expect(released.metadata.finalizers).toEqual(['example.com/other']);
    expect((await c.sim.state()).tenants.some((t) => t.name === `fin_${id}`)).toBe(false);
    await c.kubectl(['patch', 'sessetup', `fin-${id}`, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']);
    await waitUntil('the setup to be gone', async () => (await c.getSetup(`fin-${id}`)) === undefined);
  });

  it('keeps tenant and identity in SES with deletionPolicy Retain', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`keep-${id}`, { tenantName: `keep_${id}`, domainIdentity: `mail.keep-${id}.test`, deletionPolicy: 'Retain' });
    await withRecords(`keep-${id}`);
    await c.deleteSetup(`keep-${id}`);
    await waitUntil('the setup to be gone', async () => (await c.getSetup(`keep-${id}`)) === undefined);
    const state = await c.sim.state();
    expect(state.tenants.some((t) => t.name === `keep_${id}`)).toBe(true);
    expect(state.identities.some((i) => i.name === `mail.keep-${id}.test`)).toBe(true);
  });

  it('does not take over an untagged tenant, and does with adoptionPolicy Adopt', async () => {
    const id = uniqueSuffix();
    const { SESv2Client, CreateTenantCommand } = await import('@aws-sdk/client-sesv2');
    const sdk = new SESv2Client({ endpoint: c.stack.sesEndpoint, region: c.stack.region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    await sdk.send(new CreateTenantCommand({ TenantName: `theirs_${id}`, Tags: [{ Key: 'team', Value: 'other' }] }));
    sdk.destroy();

    await c.createSetup(`adopt-${id}`, { tenantName: `theirs_${id}`, domainIdentity: `mail.adopt-${id}.test` });
    const stalled = await waitUntil('TenantNotOwned', async () => {
      const found = condition(await c.getSetup(`adopt-${id}`), 'TenantReady');
      return found?.reason === 'TenantNotOwned' ? found : undefined;
    });
    expect(stalled.message).toContain('was not created by this SesSetup');
    expect(condition(await c.getSetup(`adopt-${id}`), 'Stalled')?.status).toBe('True');
    let state = await c.sim.state();
    expect(tagsOf(state.tenants.find((t) => t.name === `theirs_${id}`)!.tags)).toEqual({ team: 'other' });
    expect(state.identities.some((i) => i.name === `mail.adopt-${id}.test`)).toBe(false);

    // Deleting it must leave the foreign tenant alone.
    await c.createSetup(`adopt2-${id}`, { tenantName: `theirs_${id}`, domainIdentity: `mail.adopt2-${id}.test`, adoptionPolicy: 'Adopt' });
    await c.deleteSetup(`adopt-${id}`);
    await waitUntil('the non-adopting setup to be gone', async () => (await c.getSetup(`adopt-${id}`)) === undefined);
    const adopted = await withRecords(`adopt2-${id}`);
    expect(adopted.status!.tenant!.adopted).toBe(true);
    state = await c.sim.state();
    expect(tagsOf(state.tenants.find((t) => t.name === `theirs_${id}`)!.tags)[OWNER_UID_TAG]).toBe(adopted.metadata.uid);
  });

  it('reports a conflict on the later of two setups with the same tenantName and creates nothing for it', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`first-${id}`, { tenantName: `same_${id}`, domainIdentity: `mail.first-${id}.test` });
    await withRecords(`first-${id}`);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // creationTimestamp has 1 s resolution
    await c.createSetup(`second-${id}`, { tenantName: `same_${id}`, domainIdentity: `mail.second-${id}.test` });
    const ready = await waitUntil('the conflict', async () => {
      const found = condition(await c.getSetup(`second-${id}`), 'Ready');
      return found?.reason === 'TenantNameConflict' ? found : undefined;
    });
    expect(ready.message).toContain(`already claimed by SesSetup first-${id}`);
    const state = await c.sim.state();
    expect(state.identities.some((i) => i.name === `mail.second-${id}.test`)).toBe(false);
    expect(state.tenants.filter((t) => t.name === `same_${id}`)).toHaveLength(1);
  });

  it('refuses changes to immutable fields', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`imm-${id}`, { tenantName: `imm_${id}`, domainIdentity: `mail.imm-${id}.test` });
    for (const [patch, field] of [
      [{ spec: { tenantName: 'other' } }, 'spec.tenantName'],
      [{ spec: { domainIdentity: 'other.imm.test' } }, 'spec.domainIdentity'],
      [{ spec: { region: 'eu-west-1' } }, 'spec.region'],
    ] as const) {
      const failure = await c.kubectl(['patch', 'sessetup', `imm-${id}`, '--type=merge', '-p', JSON.stringify(patch)]).catch((error: Error) => error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toContain(field);
      expect((failure as Error).message).toContain('immutable');
    }
  });

  it('writes nothing and calls SES for nothing when a Ready setup is reconciled again (operator restart)', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`noop-${id}`, { tenantName: `noop_${id}`, domainIdentity: `mail.noop-${id}.test` });
    await publish(await withRecords(`noop-${id}`));
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/noop-${id}`, '--timeout=60s']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = (await c.getSetup(`noop-${id}`))!;
    const calls = await c.sim.calls();
    await operator.stop();
    operator = await startOperator(['--recheck-slow', '1h']);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const after = (await c.getSetup(`noop-${id}`))!;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const since = (await c.sim.calls()).log.filter(
      (call) => call.seq > calls.total && (call.target === `noop_${id}` || call.target === `mail.noop-${id}.test`),
    );
    expect(since).toEqual([]);
  });
});

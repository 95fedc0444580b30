import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { cluster, fieldManagers, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const run = promisify(execFile);
const c = cluster();
const cli = join(PROJECT_ROOT, 'src/cli/main.ts');
let operator: OperatorProcess | undefined;

describe('the operator process', () => {
  beforeAll(async () => c.installCrds());
  afterEach(async () => {
    await c.sim.setFaults({});
    await operator?.stop();
    operator = undefined;
  });
  afterAll(async () => c.sim.setFaults({}));

  it('converges without duplicates after a SIGKILL between an SES create and the status write', async () => {
    const id = uniqueSuffix();
    const tenant = `crash_${id}`;
    const domain = `mail.crash-${id}.test`;
    operator = await startOperator();
    await c.sim.setFaults({ latencyMs: 1_500 });
    const mark = (await c.sim.calls()).total;
    await c.createSetup(`crash-${id}`, { tenantName: tenant, domainIdentity: domain });
    await waitUntil(
      'CreateTenant to complete in SES',
      async () => (await c.sim.calls()).log.some((call) => call.seq > mark && call.operation === 'CreateTenant' && call.target === tenant),
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    await operator.kill();
    expect((await c.getSetup(`crash-${id}`))?.status?.tenant).toBeUndefined(); // created in SES, not in status
    await c.sim.setFaults({});
    operator = await startOperator();
    await waitUntil('records after the restart', async () => (await c.getSetup(`crash-${id}`))?.status?.identity?.tenantAssociated, { timeoutMs: 20_000 });
    const state = await c.sim.state();
    expect(state.tenants.filter((t) => t.name === tenant)).toHaveLength(1);
    expect(state.identities.filter((i) => i.name === domain)).toHaveLength(1);
    expect(state.associations.filter((a) => a.tenantName === tenant)).toHaveLength(1);
    const calls = (await c.sim.calls()).log.filter((call) => call.seq > mark && call.target === tenant);
    expect(calls.filter((call) => call.operation === 'CreateTenant' && call.status === 200)).toHaveLength(1);
    expect(calls.some((call) => call.operation === 'CreateTenant' && call.error === 'AlreadyExistsException')).toBe(true);
    expect(calls.some((call) => call.operation === 'GetTenant')).toBe(true); // read back, tag checked
  });

  it('does not hot-loop while SES throttles every call, and converges once it stops', async () => {
    const id = uniqueSuffix();
    operator = await startOperator();
    await c.sim.setFaults({ throttleFraction: 1 });
    const mark = (await c.sim.calls()).total;
    await c.createSetup(`thr-${id}`, { tenantName: `thr_${id}`, domainIdentity: `mail.thr-${id}.test` });
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const throttled = (await c.sim.calls()).log.filter((call) => call.seq > mark);
    // 3 SDK attempts, then a 5 s pause: a hot loop at the limiter's 20/s would be over 100.
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled.length).toBeLessThanOrEqual(9);
    expect(throttled.every((call) => call.status === 429)).toBe(true);
    const ready = await waitUntil('the SesError condition', async () => {
      const found = (await c.getSetup(`thr-${id}`))?.status?.conditions?.find((cond) => cond.type === 'TenantReady');
      return found?.reason === 'SesError' ? found : undefined;
    });
    expect(ready.message).toContain('TooManyRequestsException');
    await c.sim.setFaults({});
    await waitUntil('records once SES answers again', async () => (await c.getSetup(`thr-${id}`))?.status?.dnsRecords?.length, { timeoutMs: 20_000 });
  });

  it('spends no more than its --ses-rate-limit on SES', async () => {
    const id = uniqueSuffix();
    operator = await startOperator(['--ses-rate-limit', '4']);
    const mark = (await c.sim.calls()).total;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => c.createSetup(`rate-${i}-${id}`, { tenantName: `rate_${i}_${id}`, domainIdentity: `mail.rate-${i}-${id}.test` })),
    );
    await waitUntil(
      'all records',
      async () => {
        const setups = await Promise.all(Array.from({ length: 6 }, (_, i) => c.getSetup(`rate-${i}-${id}`)));
        return setups.every((s) => s?.status?.dnsRecords?.length);
      },
      { timeoutMs: 30_000 },
    );
    const calls = (await c.sim.calls()).log
      .filter((call) => call.seq > mark)
      .map((call) => call.at)
      .sort((a, b) => a - b);
    expect(calls.length).toBe(18); // exactly three calls per new setup
    // 18 calls at 4/s after the first token: at least (18 - 1) / 4 s from first to last.
    expect(calls.at(-1)! - calls[0]!).toBeGreaterThanOrEqual(((18 - 1) / 4) * 1000 - 100);
  });

  it('reconciles a setup applied during its start-up work before the setups it found at start', async () => {
    const id = uniqueSuffix();
    const found = Array.from({ length: 60 }, (_, i) => `boot-${i}-${id}`);
    const spec = (name: string) => ({ tenantName: name.replaceAll('-', '_'), domainIdentity: `mail.${name}.test` });
    try {
      // Applied while no operator runs: all of them come with its first list.
      for (let i = 0; i < found.length; i += 20) await Promise.all(found.slice(i, i + 20).map((name) => c.createSetup(name, spec(name))));
      const mark = (await c.sim.calls()).total;
      // One worker, so the order is the queue's alone; SES fast enough that the start-up work takes seconds, not minutes.
      operator = await startOperator(['--concurrency', '1', '--ses-rate-limit', '200']);
      await c.createSetup(`late-${id}`, spec(`late-${id}`));
      const creates = await waitUntil('every setup to have its tenant', async () => {
        const seen = (await c.sim.calls()).log.filter((call) => call.seq > mark && call.operation === 'CreateTenant');
        return seen.length >= found.length + 1 ? seen : undefined;
      });
      const order = creates.map((call) => call.target);
      const before = order.indexOf(spec(`late-${id}`).tenantName);
      // Queued first-come, it would come after all 60 (and any setups other tests left behind).
      expect(before).toBeGreaterThanOrEqual(0);
      expect(before, `CreateTenant order: ${order.join(' ')}`).toBeLessThan(found.length / 4);
    } finally {
      const names = [...found, `late-${id}`];
      await Promise.all(names.map((name) => c.deleteSetup(name).catch(() => {})));
      await waitUntil('the setups to be gone', async () => (await c.listSetups()).every((setup) => !names.includes(setup.metadata.name)), {
        timeoutMs: 60_000,
      }).catch(async () => Promise.all(names.map((name) => c.clearSetupFinalizers(name))));
    }
  });

  it('names itself to the API server: its finalizer and status writes are managed by ses-operator', async () => {
    const id = uniqueSuffix();
    operator = await startOperator();
    await c.createSetup(`ua-${id}`, { tenantName: `ua_${id}`, domainIdentity: `mail.ua-${id}.test` });
    try {
      const setup = await waitUntil('records in status', async () => {
        const found = await c.getSetup(`ua-${id}`);
        return found?.status?.dnsRecords?.length ? found : undefined;
      });
      // What `kubectl get --show-managed-fields` lists: without a User-Agent the API server says "unknown".
      const managers = fieldManagers(setup).map((entry) => `${entry.manager} ${entry.subresource ?? ''}`.trim());
      expect(managers).toContain('ses-operator status');
      expect(managers.filter((manager) => manager.startsWith('unknown'))).toEqual([]);
    } finally {
      await c.deleteSetup(`ua-${id}`).catch(() => {});
    }
  });

  it('rejects bad settings at start-up, naming each one', async () => {
    const failure = await run(process.execPath, [cli, 'run', '--region', 'Europe', '--ses-rate-limit', '0', '--dns-servers', 'resolver.example:53'], {
      env: { ...process.env, KUBECONFIG: c.stack.kubeconfig },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('--region must look like eu-west-1');
    expect(failure?.stderr).toContain('--ses-rate-limit must be > 0');
    expect(failure?.stderr).toContain('--dns-servers: "resolver.example:53" is not ip[:port]');
    const help = await run(process.execPath, [cli, 'run', '--help']);
    expect(help.stdout).toContain('--ses-rate-limit');
    expect(help.stdout).toContain('SES_OPERATOR_SES_RATE_LIMIT');
  });
});

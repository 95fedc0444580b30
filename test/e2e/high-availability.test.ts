import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fastLeaderElectionFlags } from '../../harness/stack/local-operator.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
const id = uniqueSuffix();
// The shipped Lease Role covers the Lease named ses-operator in the ses-operator namespace only.
const namespace = 'ses-operator';
const leaseName = 'ses-operator';
let replicas: OperatorProcess[] = [];

/** Leader-elected replicas with short, test-sized timings (the defaults are controller-runtime's 15/10/2 s). */
function replica(): Promise<OperatorProcess> {
  return startOperator(fastLeaderElectionFlags(namespace, leaseName), {}, { waitFor: 'running' });
}

async function isLeader(operator: OperatorProcess): Promise<boolean> {
  const text = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
  return new RegExp(`^leader_election_master_status\\{name="${leaseName}"\\} 1$`, 'm').test(text);
}

async function leaderOf(pair: OperatorProcess[]): Promise<{ leader: OperatorProcess; standby: OperatorProcess }> {
  return waitUntil(
    'exactly one leader',
    async () => {
      const flags = await Promise.all(pair.map(isLeader));
      if (flags.filter(Boolean).length !== 1) return undefined;
      return { leader: pair[flags.indexOf(true)]!, standby: pair[flags.indexOf(false)]! };
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
}

async function reconciledBy(operator: OperatorProcess, setup: string): Promise<boolean> {
  return (await operator.logs()).some((line) => line.sessetup === setup && line.msg === 'tenant ready');
}

describe('high availability: leader election on a Lease', () => {
  beforeAll(async () => {
    await c.installCrds();
    await c.ensureNamespace(namespace);
  });
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    replicas = [];
  });
  afterAll(async () => {
    await c.kubectl(['delete', 'lease', leaseName, '-n', namespace, '--ignore-not-found']).catch(() => {});
  });

  it('lets exactly one of two replicas reconcile; after SIGKILL the other takes over within the lease duration', async () => {
    replicas = await Promise.all([replica(), replica()]);
    const { leader, standby } = await leaderOf(replicas);
    await c.createSetup(`ha1-${id}`, { tenantName: `ha1_${id}`, domainIdentity: `mail.ha1-${id}.test` });
    await waitUntil('the leader to reconcile', () => reconciledBy(leader, `ha1-${id}`));
    expect(await reconciledBy(standby, `ha1-${id}`)).toBe(false);
    const { stdout: holder } = await c.kubectl(['get', 'lease', leaseName, '-n', namespace, '-o', 'jsonpath={.spec.holderIdentity}']);
    expect(holder).not.toBe('');

    await leader.kill();
    const killedAt = Date.now();
    await c.createSetup(`ha2-${id}`, { tenantName: `ha2_${id}`, domainIdentity: `mail.ha2-${id}.test` });
    await waitUntil('the standby to take over', () => isLeader(standby), { timeoutMs: 15_000, intervalMs: 100 });
    const tookOver = Date.now() - killedAt;
    expect(tookOver).toBeLessThan(4_000 + 1_500); // lease duration plus a retry period and scrape slack
    await waitUntil('the pending work to be finished', async () => (await c.getSetup(`ha2-${id}`))?.status?.dnsRecords?.length === 5, { timeoutMs: 15_000 });
    expect(await reconciledBy(standby, `ha2-${id}`)).toBe(true);
  });

  it('on SIGTERM drains, releases the lease, exits 0, and the other replica takes over in about a second', async () => {
    replicas = await Promise.all([replica(), replica()]);
    const { leader, standby } = await leaderOf(replicas);
    await leader.stop();
    expect(await leader.process.exited).toBe(0);
    const released = (await leader.logs()).find((line) => line.msg === 'leader election: lease released');
    expect(released).toBeDefined();
    await waitUntil('the standby to lead', () => isLeader(standby), { timeoutMs: 10_000, intervalMs: 50 });
    const became = (await standby.logs()).find((line) => line.msg === 'became leader');
    // From the release to the standby's takeover, by the two processes' own clocks (the same machine).
    const takeoverMs = Date.parse(String(became!.time)) - Date.parse(String(released!.time));
    expect(takeoverMs).toBeGreaterThanOrEqual(0);
    expect(takeoverMs).toBeLessThan(2_000);
  });
});

describe('observability and kstatus', () => {
  let operator: OperatorProcess;
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator();
  });
  afterAll(async () => operator?.stop());

  it('serves /healthz, /readyz and Prometheus /metrics with controller-runtime names', async () => {
    expect((await fetch(`${operator.probesUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${operator.probesUrl}/readyz`)).status).toBe(200);
    const name = `met-${id}`;
    await c.createSetup(name, { tenantName: `met_${id}`, domainIdentity: `mail.met-${id}.test` });
    const setup = await waitUntil('records', async () => {
      const found = await c.getSetup(name);
      return found?.status?.dnsRecords?.length ? found : undefined;
    });
    await publishRecords(
      c.stack.dnsServer,
      setup.status!.dnsRecords!.map((r) => ({ name: r.name, type: r.type, value: r.value })),
    );
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/${name}`, '--timeout=60s']);
    const text = await waitUntil('per-setup metrics', async () => {
      const body = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
      return body.includes(`ses_operator_sessetup_ready{name="${name}"} 1`) ? body : undefined;
    });
    for (const series of [
      'controller_runtime_reconcile_total{controller="sessetup",result="requeue_after"}',
      'controller_runtime_reconcile_errors_total{controller="sessetup"}',
      'controller_runtime_reconcile_time_seconds_bucket{le="0.005",controller="sessetup"}',
      'workqueue_depth{name="sessetup",controller="sessetup"}',
      'workqueue_adds_total{name="sessetup",controller="sessetup"}',
      'workqueue_queue_duration_seconds_bucket{le="1e-8",name="sessetup",controller="sessetup"}',
      'workqueue_work_duration_seconds_count{name="sessetup",controller="sessetup"}',
      'workqueue_retries_total{name="sessetup",controller="sessetup"}',
      'ses_operator_ses_calls_total{operation="CreateTenant",outcome="success"}',
      'ses_operator_ses_calls_total{operation="GetEmailIdentity",outcome="success"}',
      'ses_operator_dns_checks_total{type="CNAME",outcome="ok"}',
      `ses_operator_sessetup_verified_records{name="${name}"} 5`,
      'ses_operator_time_to_verified_seconds_count',
      'ses_operator_api_writes_total{resource="sessetups",verb="patch-status"}',
    ]) {
      expect(text, series).toContain(series);
    }
  });

  it('reads as kstatus expects: Ready, pending and blocked setups through kubectl wait and jsonpath', async () => {
    const ready = `met-${id}`;
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/${ready}`, '--timeout=10s']);
    const pending = `pend-${id}`;
    await c.createSetup(pending, { tenantName: `pend_${id}`, domainIdentity: `mail.pend-${id}.test` });
    await c.kubectl(['wait', '--for=condition=Reconciling', `sessetup/${pending}`, '--timeout=30s']);
    await c.kubectl(['wait', '--for=jsonpath={.status.observedGeneration}=1', `sessetup/${pending}`, '--timeout=10s']);
    const { stdout: pendingReady } = await c.kubectl(['get', 'sessetup', pending, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    expect(pendingReady).toBe('False');
    const notReady = await c.kubectl(['wait', '--for=condition=Ready', `sessetup/${pending}`, '--timeout=2s']).then(
      () => 'ready',
      () => 'timed out',
    );
    expect(notReady).toBe('timed out');

    await c.ensureNamespace(`ks-${id}`);
    await c.createUseCase(`ks-${id}`, 'user', { sesSetupRef: { name: ready }, fromAddress: `a@mail.met-${id}.test` });
    await waitUntil('usedBy', async () => (await c.getSetup(ready))?.status?.usedByCount === 1);
    await c.deleteSetup(ready);
    await c.kubectl(['wait', '--for=condition=DeletionBlocked', `sessetup/${ready}`, '--timeout=30s']);
    const { stdout: blockedReady } = await c.kubectl(['get', 'sessetup', ready, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}']);
    expect(blockedReady).toBe('DeletionBlocked');
    await c.deleteUseCase(`ks-${id}`, 'user');
    await c.kubectl(['wait', '--for=delete', `sessetup/${ready}`, '--timeout=30s']);
  });
});

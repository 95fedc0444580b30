import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../harness/stack/stack.ts';
import { envFromEndpoints, envFromLocalStack, type FaultEnv } from '../faults/env.ts';
import { formatReport } from '../faults/report.ts';
import { apiserverRestarts } from '../faults/scenarios/apiserver-restarts.ts';
import { crashes } from '../faults/scenarios/crashes.ts';
import { dnsFaults } from '../faults/scenarios/dns-faults.ts';
import { drift } from '../faults/scenarios/drift.ts';
import { hostileInputs } from '../faults/scenarios/hostile-inputs.ts';
import { leaderFailover } from '../faults/scenarios/leader-failover.ts';
import { orphans } from '../faults/scenarios/orphans.ts';
import { publication } from '../faults/scenarios/publication.ts';
import { regions } from '../faults/scenarios/regions.ts';
import { sesFaults } from '../faults/scenarios/ses-faults.ts';
import { tenancy } from '../faults/scenarios/tenancy.ts';
import { scanForSecrets } from '../faults/security.ts';
import type { ScenarioContext, ScenarioResult } from '../faults/workload.ts';

/**
 * The fault suite of test/faults (`npm run test:faults`) in its small size, in CI: every scenario
 * must converge with nothing leaked or duplicated and no invariant broken. Scenarios use the shared
 * stack one after another (fresh name prefixes, so they never see each other's objects), except
 * the kube-apiserver restarts, which run at the same time on a stack of their own.
 * Scenario 7 (bad input at the API server) is test/e2e/api-validation.test.ts.
 */
const shared = envFromEndpoints(inject('stack'));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
const ctx = (env: FaultEnv): ScenarioContext => ({ env, size: 'small', log });
const results: ScenarioResult[] = [];
const secretFindings: string[] = [];
let ownStack: LocalStack | undefined;
let restarts: Promise<ScenarioResult | Error>;

async function run(scenario: Promise<ScenarioResult>): Promise<ScenarioResult> {
  const result = await scenario;
  results.push(result);
  return result;
}

function expectClean(result: ScenarioResult): void {
  expect(result.violations, `${result.scenario}: ${result.notes.join('; ')}`).toEqual([]);
  expect(result.converged, `${result.scenario}: converged`).toBe(result.objects);
  expect(result.leaked, `${result.scenario}: leaked`).toBe(0);
  expect(result.duplicated, `${result.scenario}: duplicated`).toBe(0);
}

describe('fault suite, small size (test/faults)', () => {
  beforeAll(async () => {
    await shared.kube.installCrds();
    restarts = (async () => {
      ownStack = await startLocalStack();
      const own = envFromLocalStack(ownStack);
      await own.kube.installCrds();
      const result = await apiserverRestarts(ctx(own));
      // Scan this stack before it goes: its logs, events and objects.
      const scan = await scanForSecrets(own, result.logFiles);
      secretFindings.push(...scan.findings);
      log(scan.summary);
      return result;
    })().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  });

  afterAll(async () => {
    await restarts;
    await ownStack?.stop();
    if (results.length) process.stdout.write(`\n${formatReport(results)}\n`);
  });

  it('1. crashes: setups created and deleted while the operator is SIGKILLed at random and mid-create', async () => {
    expectClean(await run(crashes(ctx(shared))));
  }, 180_000);

  it('4. DNS faults: SERVFAIL, timeouts and an unreachable resolver are reported, and verification recovers', async () => {
    expectClean(await run(dnsFaults(ctx(shared))));
  }, 180_000);

  it('5. leader failover under load: no setup worked on by two replicas at once', async () => {
    expectClean(await run(leaderFailover(ctx(shared))));
  }, 180_000);

  it('6. conflicting and hostile inputs: foreign resources, races, dangling references, deletes mid-creation', async () => {
    expectClean(await run(hostileInputs(ctx(shared))));
  }, 180_000);

  it('orphans: setups deleted with their finalizer stripped while the operator is down are swept after restart; Retain and foreign kept', async () => {
    expectClean(await run(orphans(ctx(shared))));
  }, 120_000);

  it('8. tenancy: namespaces relabelled and selectors changed live (once with the operator down); refused use cases never counted nor holding a deletion', async () => {
    expectClean(await run(tenancy(ctx(shared))));
  }, 180_000);

  it('3. SES faults: throttling, 500s and latency converge within 2x the calls, at the rate limit', async () => {
    expectClean(await run(sesFaults(ctx(shared))));
  }, 240_000);

  it('8. drift: SES changed behind the operator (deletions, a replaced tenant, DKIM lapse, pause, AccessDenied) seen within one slow re-check, repaired or reported', async () => {
    expectClean(await run(drift(ctx(shared))));
  }, 200_000);

  it('10. publication: setups published by the real external-dns while the operator is SIGKILLed; no DNSEndpoint or BIND record of a deleted setup left, none twice', async () => {
    expectClean(await run(publication(ctx(shared))));
  }, 150_000);

  it('regions: setups in two regions, the operator killed mid-create and restarted with another default; nothing leaked or duplicated in any region', async () => {
    expectClean(await run(regions(ctx(shared))));
  }, 120_000);

  it('2. kube-apiserver restarts: watches recover without a missed change, no operator restart', async () => {
    const result = await restarts;
    if (result instanceof Error) throw result;
    results.push(result);
    expectClean(result);
  }, 180_000);

  it('no credential, token or secret appears in any operator log, Event or status', async () => {
    // Every operator log in the shared stack's folder: this suite's and the other e2e files'.
    const dir = join(shared.kubeconfig, '..');
    const logs = (await readdir(dir)).filter((file) => /^(faults|operator)-.*\.log$/.test(file)).map((file) => join(dir, file));
    const scan = await scanForSecrets(shared, logs);
    log(scan.summary);
    expect(logs.length).toBeGreaterThan(0);
    expect([...secretFindings, ...scan.findings]).toEqual([]);
  }, 60_000);
});

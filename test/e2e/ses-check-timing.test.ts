import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { VERIFY_ANNOTATION } from '../../src/api/group.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
let operator: OperatorProcess;

/** SES's first look at the new identity no sooner than this after its creation: past the operator's expected look (about 11 s after the records are live). */
const SES_LATE_MS = 16_000;

/** How long SES's checks stall: the operator's estimate of SES's period grows to about this (its fallback is 10 s). */
const STALL_MS = 14_000;

// Until 16 answers tell SES's period, the operator takes half of --recheck-fast (10 s): its first re-check comes
// 11 s (the period + 10 %) after it sees the records live, a quarter period is 2.5 s, a margin 1 s. A high SES
// rate keeps the re-check budget's floor out of the way.
beforeAll(async () => {
  await c.installCrds();
  operator = await startOperator(['--recheck-fast', '20s', '--recheck-fast-max', '60s', '--ses-rate-limit', '200']);
});
afterEach(() => c.sim.setFaults({}));
afterAll(() => operator?.stop());

describe("SES's first look at a new identity comes late (its pass over many identities reaches it last)", () => {
  it('looks again one margin after an answer that shows SES has not looked yet, and turns Ready within one margin of its look', async () => {
    await c.sim.setFaults({ firstDkimCheckDelayMs: SES_LATE_MS });
    const id = uniqueSuffix();
    const name = `late-${id}`;
    const domain = `late-${id}.test`;
    const since = await c.sim.mark();
    await published(await withRecords(name, { tenantName: `late_${id}`, domainIdentity: domain }));
    // A verify request: the operator sees every record live now, and SES has not looked.
    await c.kubectl(['annotate', '--overwrite', `sessetup/${name}`, `${VERIFY_ANNOTATION}=late-${id}`]);
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/${name}`, '--timeout=60s']);

    const identity = (await c.sim.state()).identities.find((recorded) => recorded.name === domain)!;
    const verifiedAt = identity.firstSuccessAt!;
    expect(verifiedAt - identity.createdAt).toBeGreaterThanOrEqual(SES_LATE_MS);
    const reads = (await c.sim.calls(since)).log.filter((call) => call.operation === 'GetEmailIdentity' && call.target === domain).map((call) => call.at);
    // The verify request's read, the first re-check 11 s later, then reads a margin apart until one comes after SES's look.
    expect(reads.length).toBeGreaterThanOrEqual(4);
    expect(reads[1]! - reads[0]!).toBeGreaterThanOrEqual(10_500);
    const lateReads = reads.slice(1);
    const gaps = lateReads.slice(1).map((at, index) => at - lateReads[index]!);
    // One margin (1 s, +20 % jitter) each, where a quarter period (2.5 s) was the pace before.
    for (const gap of gaps) expect(gap).toBeLessThan(1_800);
    expect(lateReads.at(-1)! - verifiedAt).toBeLessThan(1_800);
    expect(lateReads.filter((at) => at < verifiedAt).length).toBe(lateReads.length - 1);

    await c.deleteSetup(name);
    await waitUntil('the setup to be gone', async () => (await c.getSetup(name)) === undefined);
  });
});

describe("SES's checks stall, then resume: a setup waiting for SES's look is looked at once the estimate of SES's period falls", () => {
  it("plans the first re-check again, sooner, when a stall's long ages have aged out of the estimate", async () => {
    const id = uniqueSuffix();
    // A verified setup: each verify request on it is one GetEmailIdentity, whose answer tells how long ago SES looked.
    const probe = `stall-probe-${id}`;
    const probeDomain = `${probe}.test`;
    await published(await withRecords(probe, { tenantName: `stall_probe_${id}`, domainIdentity: probeDomain }));
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/${probe}`, '--timeout=60s']);
    let request = 0;
    const readProbe = async (times: number) => {
      for (let i = 0; i < times; i++) await verifyRequest(probe, `${id}-${request++}`);
    };

    await c.sim.setFaults({ dkimChecksPaused: true });
    await sleep(STALL_MS);
    // 16 answers after the stall: the estimate trusts them, and holds the stall.
    await readProbe(16);
    const stalledMs = await estimateMs();
    expect(stalledMs).toBeGreaterThanOrEqual(STALL_MS);

    // SES checks again (every 2 s here); a new identity's first look is held back a little, so the operator's first
    // look at the new setup finds every record live and SES still pending, and plans its re-check with the stall in it.
    await c.sim.setFaults({ firstDkimCheckDelayMs: 3_000 });
    const resumedAt = Date.now();
    const since = await c.sim.mark();
    const name = `stall-${id}`;
    const domain = `stall-${id}.test`;
    await published(await withRecords(name, { tenantName: `stall_${id}`, domainIdentity: domain }));
    await verifyRequest(name, `${id}-live`);
    const liveAt = Date.now();
    expect(await estimateMs()).toBeGreaterThanOrEqual(STALL_MS);

    // Answers from SES checking every 2 s again replace the stall's in the estimate (32 of them at most).
    await waitUntil('SES to look at the probe again', async () => {
      const identity = (await c.sim.state()).identities.find((recorded) => recorded.name === probeDomain);
      return (identity?.lastSuccessAt ?? 0) > resumedAt;
    });
    let fellAt: number | undefined;
    for (let i = 0; i < 32 && fellAt === undefined; i++) {
      await readProbe(1);
      if ((await estimateMs()) <= 3_000) fellAt = Date.now();
    }
    expect(fellAt).toBeDefined();
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/${name}`, '--timeout=60s']);

    const reads = (await c.sim.calls(since)).log.filter((call) => call.operation === 'GetEmailIdentity' && call.target === domain).map((call) => call.at);
    // The verify request's read, then the first re-check: planned with the stall in the estimate for 15 s or more after
    // the records were live, it came as soon as the estimate fell instead.
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads[1]! - liveAt).toBeLessThan(stalledMs - 2_000);
    expect(reads[1]! - fellAt!).toBeLessThan(1_500);
    const identity = (await c.sim.state()).identities.find((recorded) => recorded.name === domain)!;
    expect(identity.firstSuccessAt!).toBeLessThan(reads.at(-1)!);

    for (const setup of [name, probe]) await c.deleteSetup(setup);
    await waitUntil('the setups to be gone', async () => (await c.getSetup(name)) === undefined && (await c.getSetup(probe)) === undefined);
  }, 150_000);
});

/** Creates the setup and waits for the DNS records in its status. */
async function withRecords(name: string, spec: { tenantName: string; domainIdentity: string }): Promise<SesSetup> {
  await c.createSetup(name, spec);
  return waitUntil<SesSetup>(`records of ${name} in status`, async () => {
    const found = await c.getSetup(name);
    return found?.status?.dnsRecords?.length === 5 ? found : undefined;
  });
}

async function published(setup: SesSetup): Promise<void> {
  await publishRecords(
    c.stack.dnsServer,
    setup.status!.dnsRecords!.map((record) => ({ name: record.name, type: record.type, value: record.value })),
  );
}

/** A verify request, answered: one live check, which reads SES's view of the identity. */
async function verifyRequest(name: string, value: string): Promise<void> {
  await c.annotateSetup(name, { [VERIFY_ANNOTATION]: value });
  await waitUntil(`${name} to answer verify request ${value}`, async () => (await c.getSetup(name))?.status?.lastHandledVerifyRequest === value, {
    intervalMs: 20,
  });
}

/** The operator's estimate of SES's period, from its metric. */
async function estimateMs(): Promise<number> {
  const text = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith('ses_operator_ses_check_period_seconds'));
  if (!line) throw new Error('ses_operator_ses_check_period_seconds not in the metrics');
  return Number(line.split(' ').at(-1)) * 1000;
}

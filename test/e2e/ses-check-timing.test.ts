import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe("SES's first look at a new identity comes late (its pass over many identities reaches it last)", () => {
  beforeAll(async () => {
    await c.installCrds();
    // Until 16 answers tell SES's period, the operator takes half of --recheck-fast (10 s): its first re-check comes
    // 11 s (the period + 10 %) after it sees the records live, a quarter period is 2.5 s, a margin 1 s. A high SES
    // rate keeps the re-check budget's floor out of the way.
    operator = await startOperator(['--recheck-fast', '20s', '--recheck-fast-max', '60s', '--ses-rate-limit', '200']);
  });
  afterAll(async () => {
    await c.sim.setFaults({});
    await operator?.stop();
  });

  it('looks again one margin after an answer that shows SES has not looked yet, and turns Ready within one margin of its look', async () => {
    await c.sim.setFaults({ firstDkimCheckDelayMs: SES_LATE_MS });
    const id = uniqueSuffix();
    const name = `late-${id}`;
    const domain = `late-${id}.test`;
    const since = await c.sim.mark();
    await c.createSetup(name, { tenantName: `late_${id}`, domainIdentity: domain });
    const setup = await waitUntil<SesSetup>('records in status', async () => {
      const found = await c.getSetup(name);
      return found?.status?.dnsRecords?.length === 5 ? found : undefined;
    });
    await publishRecords(
      c.stack.dnsServer,
      setup.status!.dnsRecords!.map((record) => ({ name: record.name, type: record.type, value: record.value })),
    );
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

import type { Context } from '../context.ts';
import { publishDomains } from '../dns.ts';
import type { CallRecord } from '../../harness/simulator/call-log.ts';
import { jsonBytes, measureFloor, type FloorSample } from '../floor.ts';
import { driveSesChecks, longestPeriod } from '../ses-check.ts';
import { floorPhases, formatPhases, operatorPhases, phaseSummary, type Phases } from '../phases.ts';
import { setupBatch, type Item } from '../batch.ts';
import { addCpu, CpuMeter, NO_CPU, type CpuUse } from '../cpu.ts';
import { delta, LEARNED_PERIOD } from '../metrics.ts';
import { forEachLimit } from '../pool.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { percentile, percentiles, sum } from '../stats.ts';
import { applyAll, callsPerSetup, countBy, deleteAll, untilEventsSent } from './common.ts';

/**
 * 1 + 2. N setups applied at once with their DNS records already published: apply -> records in
 * status and apply -> Ready per setup, against the floor (the same round trips done directly, with
 * the same parallelism, in the same run); SES calls per new setup and per verification check.
 */
export async function latencyScenario(ctx: Context): Promise<void> {
  const n = ctx.config.latencySetups;
  const rounds = ctx.config.latencyRounds;
  // No SES quota here, so the limiter must not be what is measured (2,000/s keeps the re-check budget
  // floor, setups / (rate x share), at 0.1 s). While SES has not verified a domain, the operator can only
  // poll it: every half of SES's own check interval (with the records live, the operator goes at half
  // its fast pace), one GetEmailIdentity per check.
  const flags = {
    '--ses-rate-limit': '2000',
    '--recheck-fast': `${ctx.config.dkimIntervalMs}ms`,
    '--recheck-fast-max': `${ctx.config.dkimIntervalMs}ms`,
    // Fewer workers than setups at once (the default, 4, would queue them for seconds): on two cores,
    // 100 reconciles side by side share the CPU and all finish late, while 35 let the first ones
    // finish early and a due re-check go before a new first reconcile (bench/RESULTS.md: the sweep).
    '--concurrency': String(ctx.config.concurrency ?? Math.min(n, LATENCY_WORKERS)),
  };
  // A burst of 100 on two cores is noisy: several rounds, each floor right before its operator batch, pooled.
  const all = {
    records: [] as number[],
    ready: [] as number[],
    floor: [] as FloorSample[],
    log: [] as CallRecord[],
    items: [] as Item[],
    phases: [] as Phases[],
    readyBytes: [] as number[],
    cpu: NO_CPU,
    floorCpu: NO_CPU,
  };
  let checks = 0;
  let reconciles = 0;
  let apiWrites = 0;
  for (let round = 0; round < rounds; round++) {
    const r = await latencyRound(ctx, `r${round}`, n, flags);
    all.records.push(...r.records);
    all.ready.push(...r.ready);
    all.floor.push(...r.floor);
    all.log.push(...r.log);
    all.items.push(...r.items);
    all.phases.push(...r.phases);
    all.readyBytes.push(r.readyBytes);
    all.cpu = addCpu(all.cpu, r.cpu);
    all.floorCpu = addCpu(all.floorCpu, r.floorCpu);
    checks += r.checks;
    reconciles += r.reconciles;
    apiWrites += r.apiWrites;
    ctx.log(
      `latency round ${round + 1}/${rounds}: records p50 ${percentile(r.records, 50)} ms (floor ${percentile(
        r.floor.map((f) => f.records),
        50,
      )}), Ready p50 ${percentile(r.ready, 50)} ms (floor ${percentile(
        r.floor.map((f) => f.ready),
        50,
      )})`,
    );
    ctx.log(`latency round ${round + 1}/${rounds} phases p50/p99 ms: operator ${formatPhases(phaseSummary(r.phases))}`);
    ctx.log(`latency round ${round + 1}/${rounds} phases p50/p99 ms: floor    ${formatPhases(phaseSummary(floorPhases(r.floor)))}`);
    ctx.log(`latency round ${round + 1}/${rounds} SES's period: ${r.sesPeriodMs} ms; the operator's learned estimate ${r.learnedPeriodMs} ms`);
    ctx.log(`latency round ${round + 1}/${rounds} CPU per setup: operator run ${formatCpu(r.cpu, n)}; floor ${formatCpu(r.floorCpu, n)}`);
  }

  const { records, ready, floor, log, items } = all;
  const floorRecords = floor.map((sample) => sample.records);
  const floorReady = floor.map((sample) => sample.ready);
  const scenario = `latency (${n} at once${rounds > 1 ? `, ${rounds} rounds` : ''})`;
  for (const [what, measured, reference] of [
    ['apply -> records in status', records, floorRecords],
    ['apply -> Ready', ready, floorReady],
  ] as const) {
    for (const p of [50, 95, 99]) {
      const value = percentile(measured, p);
      const ref = percentile(reference, p);
      ctx.add({
        scenario,
        figure: `${what} p${p}`,
        value,
        unit: 'ms',
        reference: { label: 'floor', value: ref },
        ratio: value / ref,
        ...(LATENCY_BUDGETS[p] === undefined ? {} : { budget: ratioBudget(value / ref, LATENCY_BUDGETS[p]) }),
      });
    }
  }

  // The tail's cause, shown beside it: CPU per setup on the whole machine, by process.
  const setups = n * rounds;
  ctx.add({
    scenario,
    figure: 'CPU per new setup, whole machine (apply -> Ready)',
    value: Math.round((all.cpu.machine * 1000) / setups),
    unit: 'ms',
    reference: { label: 'floor', value: Math.round((all.floorCpu.machine * 1000) / setups) },
    ratio: all.cpu.machine / all.floorCpu.machine,
    note: `operator run: ${formatCpu(all.cpu, setups)}; floor: ${formatCpu(all.floorCpu, setups)}`,
  });

  // The floor must do the operator's work: a smaller status would make every one of its writes cheaper.
  const operatorBytes = percentile(all.readyBytes, 50);
  const floorBytes = percentile(
    floor.map((sample) => sample.readyBytes),
    50,
  );
  ctx.add({
    scenario,
    figure: 'a setup as its Ready write left it (JSON)',
    value: operatorBytes,
    unit: 'bytes',
    reference: { label: 'floor', value: floorBytes },
    ratio: operatorBytes / floorBytes,
    budget: { text: "floor's within 5%", met: Math.abs(operatorBytes / floorBytes - 1) <= 0.05 },
    note: 'the floor writes the status the contract has, as the operator does; the API server pays for each write by its size',
  });

  const perSetup = callsPerSetup(log, items, (name) => ctx.tracker.recordsCheckedAt.get(name));
  const mean = sum(perSetup) / perSetup.length;
  ctx.add({
    scenario: 'SES calls',
    figure: 'per new setup until records in status',
    value: mean,
    unit: '',
    reference: { label: 'minimum', value: 3 },
    ratio: mean / 3,
    budget: { text: 'exactly 3', met: perSetup.every((calls) => calls === 3) },
    note: `min ${Math.min(...perSetup)}, max ${Math.max(...perSetup)}, over ${perSetup.length} setups; calls up to the check that wrote the records (its status.dnsCheckedAt)`,
  });
  // Every re-check of a setup whose DKIM CNAMEs are live asks SES for its view once (GetEmailIdentity).
  const recheckCalls = log.filter((call) => call.operation === 'GetEmailIdentity').length;
  const rechecks = checks - items.length; // the first check of each setup follows its creation and asks SES nothing
  ctx.add({
    scenario: 'SES calls',
    figure: 'per verification re-check (DKIM CNAMEs live)',
    value: recheckCalls / rechecks,
    unit: '',
    reference: { label: 'minimum', value: 1 },
    ratio: recheckCalls / rechecks,
    note: `${recheckCalls} GetEmailIdentity over ${rechecks} re-checks (${checks} checks in all)`,
  });
  ctx.details.latency = {
    setups: n,
    rounds,
    operatorFlags: flags,
    dkimIntervalMs: ctx.config.dkimIntervalMs,
    recordsMs: percentiles(records),
    readyMs: percentiles(ready),
    floorRecordsMs: percentiles(floorRecords),
    floorReadyMs: percentiles(floorReady),
    floorStepsP50Ms: Object.fromEntries(
      Object.keys(floor[0]?.steps ?? {}).map((step) => [
        step,
        percentile(
          floor.map((s) => s.steps[step] ?? 0),
          50,
        ),
      ]),
    ),
    // Where the time goes, pooled: the operator's phases off SES's call log, the floor's from its round trips.
    phasesMs: { operator: phaseSummary(all.phases), floor: phaseSummary(floorPhases(floor)) },
    cpuSeconds: { operator: all.cpu, floor: all.floorCpu },
    sesCallsByOperation: countBy(log, (call) => call.operation),
    reconciles,
    apiWrites,
  };
}

/** The most a percentile may take over the floor's same percentile: the middle and the tail (p95 is shown, not judged). */
const LATENCY_BUDGETS: Record<number, number | undefined> = { 50: 1.15, 99: 1.3 };

function ratioBudget(ratio: number, limit: number) {
  return { text: `<= ${limit}x floor`, met: ratio <= limit, use: ratio / limit };
}

/** The operator's --concurrency in the latency scenario (fewer when fewer setups are applied at once). */
const LATENCY_WORKERS = 35;

/** Setups the operator of each round reconciles before its measured batch. */
const WARM_UP_SETUPS = 60;

/** One round: the floor's minimal clients for n fresh domains, then the operator for n others, same parallelism. */
async function latencyRound(ctx: Context, tag: string, n: number, flags: Record<string, string>) {
  const floorItems = setupBatch(`floor${tag}`, n);
  const items = setupBatch(`lat${tag}`, n);
  // A warm-up batch on each side first, so neither side's figures include loading code, resolving
  // credentials or a cold JIT (the floor runs in this long-lived process; the operator is a fresh one,
  // which gets at least WARM_UP_SETUPS: the CI size's 20 leave much of its code still unoptimized).
  const floorWarmups = setupBatch(`floorwarm${tag}`, n);
  const warmups = setupBatch(`latwarm${tag}`, Math.max(n, WARM_UP_SETUPS));
  const names = items.map((item) => item.name);
  await publishDomains(
    ctx.stack.dnsServer,
    [...floorItems, ...items, ...floorWarmups, ...warmups].map((item) => item.spec.domainIdentity),
    ctx.stack.region,
  );
  const dkim = driveSesChecks(ctx.sim, ctx.config.dkimIntervalMs);
  try {
    const { apiserver, etcd } = ctx.stack.controlPlane;
    const { samples: floor, cpu: floorCpu } = await measureFloor(
      ctx.stack,
      ctx.kube,
      ctx.tracker,
      ctx.sim,
      floorItems,
      floorWarmups,
      () => longestPeriod(dkim.starts, ctx.config.dkimIntervalMs),
      new CpuMeter({ apiserver: apiserver.pid, etcd: etcd.pid }),
    );
    await forEachLimit([...floorItems, ...floorWarmups], ctx.config.apiConcurrency, async ({ name }) => {
      await ctx.kube.clearSetupFinalizers(name);
      await ctx.kube.deleteSetup(name);
    });
    const operator = await ctx.operator(`latency-${tag}`, Object.entries(flags).flat());
    try {
      const warmNames = warmups.map((item) => item.name);
      await applyAll(ctx, warmups, n);
      await waitUntil('the warm-up setups to be Ready', () => ctx.tracker.count(ctx.tracker.readyAt, warmNames) === warmNames.length, {
        timeoutMs: 180_000,
        intervalMs: 20,
      });
      await deleteAll(ctx, warmNames, 120_000);
      await untilEventsSent(operator);
      const seq = await ctx.sim.mark();
      const before = await operator.scrape();
      const cpuSince = new CpuMeter({ operator: operator.process.pid, apiserver: apiserver.pid, etcd: etcd.pid }).start();
      await applyAll(ctx, items, n);
      await waitUntil(`${n} setups Ready`, () => ctx.tracker.count(ctx.tracker.readyAt, names) === n, { timeoutMs: 180_000, intervalMs: 20 });
      const cpu = cpuSince();
      const after = await operator.scrape();
      const { log } = await ctx.sim.calls(seq);
      const readyBytes = jsonBytes(await ctx.kube.getSetup(names[0]!));
      const result = {
        floor,
        cpu,
        floorCpu,
        items,
        log,
        readyBytes,
        records: ctx.tracker.latencies(ctx.tracker.recordsAt, names),
        ready: ctx.tracker.latencies(ctx.tracker.readyAt, names),
        phases: operatorPhases(items, log, { applied: ctx.tracker.appliedAt, records: ctx.tracker.recordsAt, ready: ctx.tracker.readyAt }),
        checks: delta(before, after, 'ses_operator_dns_checks_total') / 5,
        reconciles: delta(before, after, 'controller_runtime_reconcile_total', { controller: 'sessetup' }),
        apiWrites: delta(before, after, 'ses_operator_api_writes_total'),
        sesPeriodMs: longestPeriod(dkim.starts, ctx.config.dkimIntervalMs),
        learnedPeriodMs: Math.round(after.sum(LEARNED_PERIOD) * 1000),
      };
      await deleteAll(ctx, names, 120_000);
      return result;
    } finally {
      await operator.stop();
    }
  } finally {
    await dkim.stop();
  }
}

/** CPU per setup in ms: the machine, then where it went. */
function formatCpu(cpu: CpuUse, setups: number): string {
  const ms = (seconds: number) => ((seconds * 1000) / setups).toFixed(1);
  const operator = cpu.operator > 0 ? `operator ${ms(cpu.operator)}, ` : '';
  return `machine ${ms(cpu.machine)} ms (${operator}API server ${ms(cpu.apiserver)}, etcd ${ms(cpu.etcd)}, bench process ${ms(cpu.bench)})`;
}

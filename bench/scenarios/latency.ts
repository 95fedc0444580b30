import type { Context } from '../context.ts';
import { publishDomains } from '../dns.ts';
import { measureFloor } from '../floor.ts';
import { setupBatch } from '../kube.ts';
import { delta } from '../metrics.ts';
import { forEachLimit, until } from '../pool.ts';
import { percentile, percentiles, sum } from '../stats.ts';
import { applyAll, callsPerSetup, countBy, deleteAll, type Item } from './common.ts';

/**
 * 1 + 2. N setups applied at once with their DNS records already published: apply -> records in
 * status and apply -> Ready per setup, against the floor (the same round trips done directly, with
 * the same parallelism, in the same run); SES calls per new setup and per verification check.
 */
export async function latencyScenario(ctx: Context): Promise<void> {
  const n = ctx.config.latencySetups;
  const floorItems = setupBatch('floor', n);
  const items = setupBatch('lat', n);
  // One of each runs alone first, so neither side's figures include loading code or resolving credentials.
  const [floorWarmup] = setupBatch('floorwarm', 1) as [Item];
  const [warmup] = setupBatch('latwarm', 1) as [Item];
  const names = items.map((item) => item.name);
  ctx.log(`latency: publishing the DNS records of ${2 * n} domains`);
  await publishDomains(
    ctx.stack.dnsServer,
    [...floorItems, ...items, floorWarmup, warmup].map((item) => item.spec.domainIdentity),
    ctx.stack.region,
  );
  const dkim = ctx.sim.driveDkim(ctx.config.dkimIntervalMs);
  try {
    ctx.log(`latency: floor: ${n} minimal clients at once`);
    const floor = await measureFloor(ctx.stack, ctx.kube, ctx.tracker, ctx.sim, floorItems, floorWarmup);
    await forEachLimit([...floorItems, floorWarmup], ctx.config.apiConcurrency, async ({ name }) => {
      await ctx.kube.clearFinalizers(name);
      await ctx.kube.delete(name);
    });

    // No SES quota here, so the limiter must not be what is measured (2,000/s keeps the re-check budget
    // floor, setups / (rate x share), at 0.1 s); re-checks poll at half SES's own check interval, and never
    // wait longer than that interval between two checks.
    const flags = {
      '--ses-rate-limit': '2000',
      '--recheck-fast': `${Math.round(ctx.config.dkimIntervalMs / 2)}ms`,
      '--recheck-fast-max': `${ctx.config.dkimIntervalMs}ms`,
      ...(ctx.config.concurrency ? { '--concurrency': String(ctx.config.concurrency) } : {}),
    };
    const operator = await ctx.operator('latency', Object.entries(flags).flat());
    try {
      await applyAll(ctx, [warmup]);
      await until('the warm-up setup to be Ready', () => ctx.tracker.readyAt.has(warmup.name), 60_000, 20);
      const seq = await ctx.sim.mark();
      const before = await operator.scrape();
      ctx.log(`latency: applying ${n} setups at once`);
      await applyAll(ctx, items, n);
      await until(`${n} setups Ready`, () => ctx.tracker.count(ctx.tracker.readyAt, names) === n, 180_000, 20);
      const after = await operator.scrape();
      const { log } = await ctx.sim.calls(seq);

      const records = ctx.tracker.latencies(ctx.tracker.recordsAt, names);
      const ready = ctx.tracker.latencies(ctx.tracker.readyAt, names);
      const floorRecords = floor.map((sample) => sample.records);
      const floorReady = floor.map((sample) => sample.ready);
      for (const [what, measured, reference] of [
        ['apply -> records in status', records, floorRecords],
        ['apply -> Ready', ready, floorReady],
      ] as const) {
        for (const p of [50, 95, 99]) {
          const value = percentile(measured, p);
          const ref = percentile(reference, p);
          ctx.add({
            scenario: `latency (${n} at once)`,
            figure: `${what} p${p}`,
            value,
            unit: 'ms',
            reference: { label: 'floor', value: ref },
            ratio: value / ref,
            ...(p === 50 ? { budget: { text: '<= 1.3x floor', met: value / ref <= 1.3 } } : {}),
          });
        }
      }

      const perSetup = callsPerSetup(log, items, (name) => ctx.tracker.recordsAt.get(name));
      const mean = sum(perSetup) / perSetup.length;
      ctx.add({
        scenario: 'SES calls',
        figure: 'per new setup until records in status',
        value: mean,
        unit: '',
        reference: { label: 'minimum', value: 3 },
        ratio: mean / 3,
        budget: { text: 'exactly 3', met: perSetup.every((calls) => calls === 3) },
        note: `min ${Math.min(...perSetup)}, max ${Math.max(...perSetup)}`,
      });
      // Every re-check of a setup whose DKIM CNAMEs are live asks SES for its view once (GetEmailIdentity).
      const checks = delta(before, after, 'ses_operator_dns_checks_total') / 5;
      const recheckCalls = log.filter((call) => call.operation === 'GetEmailIdentity').length;
      const rechecks = checks - n; // the first check of each setup follows its creation and asks SES nothing
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
        sesCallsByOperation: countBy(log, (call) => call.operation),
        reconciles: delta(before, after, 'controller_runtime_reconcile_total', { controller: 'sessetup' }),
        apiWrites: delta(before, after, 'ses_operator_api_writes_total'),
      };
      ctx.log(
        `latency: records p50 ${percentile(records, 50)} ms (floor ${percentile(floorRecords, 50)}), Ready p50 ${percentile(ready, 50)} ms (floor ${percentile(floorReady, 50)})`,
      );
      await deleteAll(ctx, [...names, warmup.name], 120_000);
    } finally {
      await operator.stop();
    }
  } finally {
    await dkim.stop();
  }
}

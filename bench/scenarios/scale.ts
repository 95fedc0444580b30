import type { Context } from '../context.ts';
import { publishDomains } from '../dns.ts';
import { setupBatch, type Item } from '../batch.ts';
import { LEARNED_PERIOD, type Scrape } from '../metrics.ts';
import type { BenchOperator } from '../operator.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { applyAll, deleteAll } from './common.ts';
import { measureSteadyState, prepareDnsEndpoints, scaleBatch, steadyFlags, steadyRows } from './steady-state.ts';
import { cpuSeconds, peakRssBytes } from '../proc.ts';
import { repeat } from '../repeat.ts';
import { driveSesChecks, longestPeriod, timeVerificationReads } from '../ses-check.ts';

/**
 * 4. N SesSetups, all verified, a share of them publishing through DNSEndpoints: resident memory
 * after sync, cold start (process start -> informers synced and the queue drained), CPU per no-op
 * reconcile, API writes at start-up and during the steady-state window (must be 0), SES calls per
 * hour against the re-check and orphan sweep schedule, and what REST API reads cost (steady-state.ts).
 */
export async function scaleScenario(ctx: Context): Promise<void> {
  const n = ctx.config.scaleSetups;
  const items = scaleBatch(n, ctx.config.scaleExternalDnsShare);
  // One new setup with nothing else in the cluster, beside the same figure among n verified ones below.
  const alone = await ctx.operator('new-alone', []);
  try {
    const figures = await newSetupFigures(ctx, 'alone', 60, alone);
    newSetupRow(ctx, 'new setup (no other setups)', figures);
    ctx.details.newSetupAlone = figures;
    await deleteAll(ctx, ['alone-00000'], 60_000);
  } finally {
    await alone.stop();
  }

  const dnsEndpointFlags = await prepareDnsEndpoints(ctx);
  const { publishSeconds, loadSeconds, sesStoppedAt } = await loadVerified(ctx, items, dnsEndpointFlags);

  // Cold start with the operator's defaults (SES rate 1/s, re-check 1 h), plus what a deployment turns on:
  // DNSEndpoints for the ExternalDNS share, the REST API, and an orphan sweep that falls in the steady window.
  const spawnSeq = await ctx.sim.mark();
  const operator = await ctx.operator('scale', steadyFlags(ctx), { heapSnapshots: true, waitForRunning: false });
  let sesChecks: ReturnType<typeof driveSesChecks> | undefined;
  try {
    const cold = await coldStart(operator, n);
    const rssMb = cold.drained.sum('process_resident_memory_bytes') / 2 ** 20;
    const peakMb = cold.peakRssBytes / 2 ** 20;
    const heapMb = cold.drained.sum('nodejs_heap_size_used_bytes') / 2 ** 20;
    const reconciles = cold.reconciles;
    // /proc counts CPU in 10 ms ticks: a drain shorter than a few ticks (small sizes) cannot be measured that way.
    const cpuDrainSeconds = cold.cpuSeconds ?? 0;
    const measurable = cpuDrainSeconds >= 0.1;
    const meanReconcileMs =
      (cold.drained.sum('controller_runtime_reconcile_time_seconds_sum', { controller: 'sessetup' }) /
        cold.drained.sum('controller_runtime_reconcile_time_seconds_count', { controller: 'sessetup' })) *
      1000;
    const cpuMs = measurable ? (cpuDrainSeconds / reconciles) * 1000 : meanReconcileMs;
    const scenario = `scale (${n} verified)`;
    ctx.add({
      scenario,
      figure: 'cold start: process start -> synced + queue drained',
      value: cold.seconds,
      unit: 's',
      budget: { text: '< 10 s', met: cold.seconds < 10, use: cold.seconds / 10 },
      note: `informers synced at ${cold.syncSeconds.toFixed(1)} s`,
    });
    ctx.add({
      scenario,
      figure: 'CPU per no-op reconcile',
      value: cpuMs * 1000,
      unit: 'µs',
      note: measurable
        ? `process CPU from sync to initial work done (${cpuDrainSeconds.toFixed(2)} s), over ${reconciles} reconciles`
        : `mean reconcile time (the drain was too short to measure CPU)`,
    });
    // Every setup was verified and published by the loader: a restart has nothing to write, DNSEndpoints included.
    const coldWrites = cold.drained.by('ses_operator_api_writes_total', 'resource');
    const coldWritesTotal = Object.values(coldWrites).reduce((a, b) => a + b, 0);
    ctx.add({
      scenario,
      figure: 'API writes during cold start',
      value: coldWritesTotal,
      unit: '',
      budget: { text: '0', met: coldWritesTotal === 0 },
      note: coldWritesTotal
        ? `by resource: ${Object.entries(coldWrites)
            .map(([resource, count]) => `${count} ${resource}`)
            .join(', ')}`
        : 'SesSetups, DNSEndpoints and all',
    });
    if (ctx.config.profile) operator.process.pid && process.kill(operator.process.pid, 'SIGUSR2');

    // SES goes on checking DNS meanwhile, as SES does: the ages its answers report are the operator's
    // only source for SES's period (for the new setup below), and a pause would show as a long period.
    sesChecks = driveSesChecks(ctx.sim, SES_CHECK_MS);
    ctx.log(`scale: SES's checks resume ${((Date.now() - sesStoppedAt) / 1000).toFixed(1)} s after the loader's last pass (the cold start in between)`);
    // Steady state: nothing changes; the operator must write nothing and call SES only for due re-checks and its sweep.
    const steady = await measureSteadyState(ctx, operator, items, spawnSeq);
    const after = steady.after;
    const window = Math.round(steady.seconds);
    // Memory once the start-up's garbage is collected (V8's memory reducer runs when the process goes idle),
    // and at the moment the start-up work is done, which still holds the garbage of 10,000 reconciles.
    const steadyRssMb = after.sum('process_resident_memory_bytes') / 2 ** 20;
    ctx.add({
      scenario,
      figure: `resident memory after sync (steady state, ${window} s later)`,
      value: steadyRssMb,
      unit: 'MB',
      budget: { text: '< 150 MB', met: steadyRssMb < 150, use: steadyRssMb / 150 },
      note: `heap used ${(after.sum('nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0)} MB`,
    });
    ctx.add({
      scenario,
      figure: 'resident memory peak from process start to initial work done',
      value: peakMb,
      unit: 'MB',
      budget: { text: '< 150 MB', met: peakMb < 150, use: peakMb / 150 },
      note: "the kernel's high-water mark (VmHWM) when the start-up work is done",
    });
    ctx.add({
      scenario,
      figure: 'resident memory when the start-up work is done',
      value: rssMb,
      unit: 'MB',
      note: `transient: heap used ${heapMb.toFixed(0)} MB, mostly garbage of the start-up`,
    });
    steadyRows(ctx, scenario, steady);

    const late = await newSetupFigures(ctx, 'late', ctx.config.small ? 60 : 180, operator, sesChecks);
    newSetupRow(ctx, scenario, late);
    ctx.details.scale = {
      setups: n,
      publishSeconds,
      loadSeconds,
      coldStartSeconds: cold.seconds,
      syncSeconds: cold.syncSeconds,
      rssMb,
      peakRssMb: peakMb,
      heapMb,
      rssAfterSteadyMb: after.sum('process_resident_memory_bytes') / 2 ** 20,
      cpuPerNoopReconcileMs: cpuMs,
      reconcileTimeMeanMs: (after.sum('controller_runtime_reconcile_time_seconds_sum') / after.sum('controller_runtime_reconcile_time_seconds_count')) * 1000,
      steadySeconds: steady.seconds,
      steadyApiWrites: steady.writes,
      steadyApiWritesByResource: steady.writesByResource,
      steadyWatchedChanges: steady.watchedSetupChanges,
      steadyDnsEndpoints: steady.dnsEndpoints,
      steadySesCalls: steady.callsByOperation,
      steadyCalls: steady.calls,
      steadyRestReads: steady.restReads,
      orphanSweep: steady.sweep,
      recheckIntervalHours: steady.schedule.recheckIntervalS / 3600,
      sesCallsPerHourSchedule: steady.schedule,
      refresh: steady.refresh,
      coldStartApiWrites: coldWrites,
      newSetup: late,
    };
  } finally {
    await sesChecks?.stop();
    await operator.stop();
  }

  // A restart with a customer waiting: a setup applied as the caches sync must not wait behind the
  // start-up reconciles of every other setup (they queue as routine work, it as urgent).
  const restarted = await ctx.operator('scale-restart', steadyFlags(ctx), { waitForRunning: false });
  try {
    await restarted.waitForLog('caches synced', 600_000);
    const duringStart = await newSetupFigures(ctx, 'restart', ctx.config.small ? 60 : 180, restarted);
    newSetupRow(ctx, `scale (${n} verified), applied as a restarted operator syncs`, duringStart);
    ctx.details.newSetupDuringColdStart = duringStart;
  } finally {
    await restarted.stop();
  }
}

/**
 * Cold start: from spawn until the operator logs that the SesSetup controller finished the work it
 * found at start-up ("initial work done": every setup reconciled, nothing left ready in the queue).
 * The harness reads the process's CPU time from /proc every 50 ms meanwhile (never asking the
 * operator, whose /metrics render every per-setup series), so the CPU spent between "caches synced"
 * and that line, over the reconciles it reports, is the CPU of a no-op reconcile.
 */
export async function coldStart(
  operator: BenchOperator,
  n: number,
): Promise<{ seconds: number; syncSeconds: number; drained: Scrape; reconciles: number; cpuSeconds: number | undefined; peakRssBytes: number }> {
  const pid = operator.process.pid;
  const samples: { at: number; cpu: number }[] = [];
  const sample = () => {
    const cpu = cpuSeconds(pid);
    if (cpu !== undefined) samples.push({ at: Date.now(), cpu });
  };
  const sampler = setInterval(sample, 50);
  let done: Record<string, unknown> | undefined;
  try {
    await waitUntil(
      'the operator to finish the work found at start-up',
      async () => {
        done = (await operator.logs()).find((line) => line.msg === 'initial work done' && line.controller === 'sessetup');
        return done !== undefined;
      },
      { timeoutMs: 600_000, intervalMs: 100 },
    );
  } finally {
    clearInterval(sampler);
  }
  sample();
  // Read before the scrape below: rendering /metrics at 10,000 setups costs memory of its own.
  const peak = peakRssBytes(pid!) ?? NaN;
  const drainedAt = Date.parse(String(done!.time));
  const syncedAt = (await operator.loggedAt('caches synced')) ?? drainedAt;
  // The last reading at or before sync and the first at or after the drain bracket the reconciles.
  const before = samples.findLast((s) => s.at <= syncedAt);
  const after = samples.find((s) => s.at >= drainedAt);
  const reconciles = Number(done!.reconciles);
  if (reconciles < n) throw new Error(`the operator reported ${reconciles} reconciles at start-up for ${n} setups`);
  return {
    seconds: (drainedAt - operator.spawnedAt) / 1000,
    syncSeconds: (syncedAt - operator.spawnedAt) / 1000,
    drained: await operator.scrape(),
    reconciles,
    cpuSeconds: before && after ? after.cpu - before.cpu : undefined,
    peakRssBytes: peak,
  };
}

/** Publishes the domains' records, then lets an operator with a generous SES budget take every setup to Ready (not measured). */
export async function loadVerified(
  ctx: Context,
  items: Item[],
  extraFlags: string[] = [],
): Promise<{ publishSeconds: number; loadSeconds: number; sesStoppedAt: number }> {
  const n = items.length;
  const names = items.map((item) => item.name);
  let phase = Date.now();
  ctx.log(`scale: publishing the DNS records of ${n} domains`);
  await publishDomains(
    ctx.stack.dnsServer,
    items.map((item) => item.spec.domainIdentity),
    ctx.stack.region,
  );
  const publishSeconds = (Date.now() - phase) / 1000;

  // Loading: an operator with a generous SES budget takes every setup to Ready; not measured.
  phase = Date.now();
  const dkim = ctx.sim.driveDkim(1_000);
  let sesStoppedAt = NaN;
  // The first re-check one SES period after creation (records live; half of --recheck-fast, 20 s, until the
  // loader has learned SES's period from 16 answers), when SES has verified the domain: a check or two per
  // setup, not a re-check storm (10,000 unverified setups at 1 s would want 10,000 checks and status writes
  // a second); the budget floor (10,000 / 1,000 per s) keeps any later re-check at least 10 s apart.
  const loader = await ctx.operator('scale-load', [
    '--ses-rate-limit',
    '1000',
    '--concurrency',
    '16',
    '--recheck-fast',
    '40s',
    '--recheck-budget-share',
    '1',
    ...extraFlags,
  ]);
  try {
    ctx.log(`scale: creating ${n} setups and waiting until every one is Ready`);
    await applyAll(ctx, items);
    ctx.log(`scale: ${n} created in ${((Date.now() - phase) / 1000).toFixed(0)} s`);
    let lastLog = Date.now();
    await waitUntil(
      `${n} setups Ready`,
      () => {
        const ready = ctx.tracker.count(ctx.tracker.readyAt, names);
        if (Date.now() - lastLog > 30_000) {
          lastLog = Date.now();
          ctx.log(`scale: ${ready} of ${n} Ready`);
        }
        return ready === n;
      },
      { timeoutMs: 3 * 3_600_000, intervalMs: 500 },
    );
    // Not a figure of the table: a loader near its heap limit is a finding of its own (bench/RESULTS.md).
    const loaderPeak = peakRssBytes(loader.process.pid!);
    if (loaderPeak !== undefined) ctx.log(`scale: the loader's peak resident memory: ${(loaderPeak / 2 ** 20).toFixed(0)} MB`);
  } finally {
    await dkim.stop();
    sesStoppedAt = Date.now();
    await loader.stop();
  }
  const loadSeconds = (Date.now() - phase) / 1000;
  ctx.log(`scale: all ${n} Ready after ${loadSeconds.toFixed(0)} s; cold start of an operator with default settings`);
  return { publishSeconds, loadSeconds, sesStoppedAt };
}

/** How often SES checks DKIM in the new-setup figures: the simulator's own default interval. */
const SES_CHECK_MS = 5_000;

export interface NewSetupFigures {
  recordsSeconds: number;
  readySeconds: number;
  /** The floor: when SES verified the identity, as a client could know it, plus one GetEmailIdentity and the lookups. */
  floorSeconds: number;
  /** Apply -> the identity exists in SES (the simulator's record): SES cannot check before. */
  identitySeconds: number;
  /** Apply -> SES's first check that found the records (the simulator's record). */
  sesVerifiedSeconds: number;
  sesPeriodSeconds: number;
  /** SES's period as the operator had learned it when the setup was Ready (its gauge); NaN if it does not say. */
  learnedPeriodSeconds: number;
  /** The same right before the apply: what its first re-check was scheduled by. */
  learnedBeforeSeconds: number;
  /** Its SES calls until Ready: "operation seconds-after-apply". */
  calls: string[];
  /** Its DKIM records as its first status showed them ("verified" or the record's message): what its first look found. */
  firstDkim: string[];
  /** The operator's estimate of SES's period (its gauge, sampled every 250 ms until Ready): lowest and highest, s. */
  learnedPeriodRange: [number, number];
  /** Highest sessetup work queue depth sampled meanwhile: keys waiting for a worker. */
  maxQueueDepth: number;
  /** Highest count of SES calls waiting for a token, by priority, sampled meanwhile. */
  maxSesWaiting: { urgent: number; routine: number };
  /** Longest a sessetup reconcile had been running at any sample, s: workers held (e.g. waiting for SES tokens). */
  maxRunningSeconds: number;
  getMs: number;
  lookupsMs: number;
  timeoutSeconds: number;
}

/**
 * One new setup, its records already published, with a running operator (defaults: SES 1
 * request/s): apply -> Ready against SES's own verification time. A new customer should not wait
 * on the operator's schedule, nor on the budget of thousands of verified setups.
 */
export async function newSetupFigures(
  ctx: Context,
  tag: string,
  timeoutSeconds: number,
  operator: BenchOperator,
  sesChecks = driveSesChecks(ctx.sim, SES_CHECK_MS),
): Promise<NewSetupFigures> {
  const [late] = setupBatch(tag, 1) as [Item];
  await publishDomains(ctx.stack.dnsServer, [late.spec.domainIdentity], ctx.stack.region);
  let starts: number[] = [];
  const learnedPeriod = async () => (await operator.scrape().catch(() => undefined))?.sum(LEARNED_PERIOD) || NaN;
  const learnedBefore = await learnedPeriod();
  const seq = await ctx.sim.mark();
  let firstDkim: string[] = [];
  void ctx.tracker.waitFor(late.name, (setup) => {
    const records = setup.status?.dnsRecords ?? [];
    firstDkim = records.filter((record) => record.purpose === 'DKIM').map((record) => (record.verified ? 'verified' : (record.message ?? 'unverified')));
    return records.length > 0;
  });
  const sampled = sampleOperator(operator);
  try {
    await applyAll(ctx, [late]);
    await waitUntil('the new setup to be Ready', () => ctx.tracker.readyAt.has(late.name), { timeoutMs: timeoutSeconds * 1000, intervalMs: 20 }).catch(
      () => {},
    );
  } finally {
    starts = await sesChecks.stop();
  }
  const { learnedPeriodRange, maxQueueDepth, maxSesWaiting, maxRunningSeconds } = await sampled.stop();
  ctx.log(
    `new setup (${tag}): first look at its DKIM records: ${firstDkim.join(' | ') || 'none'}; learned SES period ${learnedPeriodRange.map((v) => v.toFixed(2)).join('-')} s; work queue depth up to ${maxQueueDepth}; SES calls waiting for a token up to ${maxSesWaiting.urgent} urgent, ${maxSesWaiting.routine} routine; longest running reconcile ${maxRunningSeconds.toFixed(1)} s`,
  );
  // 0 or absent: an operator that does not learn SES's period (an older build through --operator-main).
  const learned = await learnedPeriod();
  const applied = ctx.tracker.appliedAt.get(late.name)!;
  // The estimate the first re-check is planned with comes from earlier answers: a long gap in SES's passes before
  // the apply (the driver started late, or a pass ran long on the busy cores) shows here, not in the reference.
  const before = starts.filter((start) => start <= applied);
  if (before.length > 0) {
    ctx.log(
      `new setup (${tag}): SES's passes from ${((applied - before[0]!) / 1000).toFixed(1)} s before the apply: longest gap ${(longestPeriod(before, 0) / 1000).toFixed(1)} s`,
    );
  }
  // The passes that could have verified it: from the last one started before the apply.
  starts = starts.slice(
    Math.max(
      0,
      starts.findLastIndex((start) => start <= applied),
    ),
  );
  const at = (map: Map<string, number>) => ((map.get(late.name) ?? NaN) - applied) / 1000;
  // The new setup's own SES calls, seconds after the apply: when the operator created and re-checked it.
  const calls = (await ctx.sim.calls(seq)).log
    .filter((call) => call.target === late.spec.domainIdentity || call.target === late.spec.tenantName)
    .map((call) => `${call.operation} ${((call.at - applied) / 1000).toFixed(1)}`);
  const { getMs, lookupsMs } = await timeVerificationReads(ctx.stack, late.spec);
  const sesPeriodSeconds = longestPeriod(starts, SES_CHECK_MS) / 1000;
  const identity = (await ctx.sim.state()).identities.find((record) => record.name === late.spec.domainIdentity);
  const identitySeconds = ((identity?.createdAt ?? NaN) - applied) / 1000;
  const sesVerifiedSeconds = ((identity?.firstSuccessAt ?? NaN) - applied) / 1000;
  // SES verifies within its longest period of the creation, or later when its pass reaches the new
  // identity late (at thousands of identities, the end of the next pass): whichever came last.
  const verifiedBySes = Math.max(identitySeconds + sesPeriodSeconds, sesVerifiedSeconds);
  return {
    recordsSeconds: at(ctx.tracker.recordsAt),
    readySeconds: at(ctx.tracker.readyAt),
    floorSeconds: verifiedBySes + (getMs + lookupsMs) / 1000,
    identitySeconds,
    sesVerifiedSeconds,
    sesPeriodSeconds,
    learnedPeriodSeconds: learned,
    learnedBeforeSeconds: learnedBefore,
    calls,
    firstDkim,
    learnedPeriodRange,
    maxQueueDepth,
    maxSesWaiting,
    maxRunningSeconds,
    getMs,
    lookupsMs,
    timeoutSeconds,
  };
}

type OperatorSamples = Pick<NewSetupFigures, 'learnedPeriodRange' | 'maxQueueDepth' | 'maxSesWaiting' | 'maxRunningSeconds'>;

/** Samples the operator's learned SES period, its work queue, its workers and its SES token waits every 250 ms until stopped. */
function sampleOperator(operator: BenchOperator): { stop(): Promise<OperatorSamples> } {
  let [low, high, depth, running] = [Infinity, -Infinity, 0, 0];
  const waiting = { urgent: 0, routine: 0 };
  const sampling = repeat(250, async () => {
    const scrape = await operator.scrape().catch(() => undefined);
    if (!scrape) return;
    const period = scrape.sum(LEARNED_PERIOD);
    if (period) [low, high] = [Math.min(low, period), Math.max(high, period)];
    depth = Math.max(depth, scrape.sum('workqueue_depth', { name: 'sessetup' }));
    running = Math.max(running, scrape.sum('workqueue_longest_running_processor_seconds', { name: 'sessetup' }));
    for (const priority of ['urgent', 'routine'] as const) {
      waiting[priority] = Math.max(waiting[priority], scrape.sum('ses_operator_ses_rate_limiter_waiting', { priority }));
    }
  });
  return {
    async stop() {
      await sampling.stop();
      return { learnedPeriodRange: [low, high], maxQueueDepth: depth, maxSesWaiting: waiting, maxRunningSeconds: running };
    },
  };
}

export function newSetupRow(ctx: Context, scenario: string, late: NewSetupFigures): void {
  const ratio = late.readySeconds / late.floorSeconds;
  ctx.add({
    scenario,
    figure: 'one new setup (records published): apply -> Ready',
    value: late.readySeconds,
    unit: 's',
    reference: { label: 'SES check', value: late.floorSeconds },
    ratio,
    budget: { text: '<= 1.2x SES check', met: ratio <= 1.2, use: ratio / 1.2 },
    note: Number.isFinite(late.readySeconds)
      ? `records after ${late.recordsSeconds.toFixed(1)} s; SES check: the later of identity created ${late.identitySeconds.toFixed(1)} s after apply + SES's longest period ${late.sesPeriodSeconds.toFixed(1)} s, and SES's verification ${late.sesVerifiedSeconds.toFixed(1)} s after apply; + GetEmailIdentity ${late.getMs} ms + lookups ${late.lookupsMs} ms; the operator's estimate of SES's period ${Number.isNaN(late.learnedPeriodSeconds) ? 'not reported' : `${late.learnedBeforeSeconds.toFixed(1)} s at the apply, ${late.learnedPeriodSeconds.toFixed(1)} s at Ready`}`
      : `not Ready within ${late.timeoutSeconds} s`,
  });
}

import type { CallRecord } from '../../../harness/simulator/call-log.ts';
import type { Verdict } from '../invariants.ts';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { setups: 20, rate: 5, timeLimitMs: 6 * 60_000 },
  small: { setups: 5, rate: 5, timeLimitMs: 100_000 },
};

// Seeded: every run draws the same faults call by call, so the 2x limit judges the operator, not the dice.
const FAULTS = { throttleFraction: 0.3, errorFraction: 0.1, latencyMs: 200, randomSeed: 14 };

/** Most calls that arrived in any `windowMs` window (arrival times from the simulator's log). */
export function maxInWindow(calls: { at: number }[], windowMs: number): number {
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/**
 * 3. SES faults: the same workload (create N setups, publish their records, wait until all are
 * Ready, delete them all, wait until SES is clean) runs fault-free, then with 30% of SES calls
 * throttled, 10% answered 500 and 200 ms added to every call. Everything must converge, total SES
 * calls must stay within 2x the fault-free run, and no second of either run may carry more calls
 * than the operator's --ses-rate-limit allows (no hot loop, retries included).
 */
export async function sesFaults(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const baseline = new Workload(ctx, 'ses-faults/baseline', 'b');
  const faulty = new Workload(ctx, 'ses-faults', 's');
  let baselineCalls = 0;
  let baselineMs = 0;
  const operatorArgs = { args: ['--ses-rate-limit', String(size.rate)] };

  /** Create, verify, delete: returns the worse verdict of "all Ready" and "all gone, SES clean", and the calls made. */
  async function lifecycle(w: Workload, deadline: number): Promise<{ verdict: Verdict; calls: CallRecord[] }> {
    const tracked = Array.from({ length: size.setups }, (_, i) => w.plan(`s${i}`));
    await Promise.all(tracked.map((t) => w.create(t)));
    const ready = await w.waitConverged(deadline, 'every setup Ready');
    for (const t of tracked) await w.delete(t);
    const gone = await w.waitConverged(deadline, 'every setup deleted and SES clean');
    const calls = (await w.calls()).filter((call) => call.target && (w.ownsTenant(call.target) || w.ownsIdentity(call.target)));
    const verdict = ready.converged < gone.converged ? { ...gone, converged: ready.converged, problems: [...ready.problems, ...gone.problems] } : gone;
    return { verdict, calls };
  }

  // The fault-free run first, as the yardstick; it must pass the same invariants.
  const base = await runScenario(baseline, { timeLimitMs: size.timeLimitMs, faults: () => 'none', cleanup: { operator: operatorArgs } }, async (deadline) => {
    const started = Date.now();
    await baseline.startOperator(operatorArgs);
    const { verdict, calls } = await lifecycle(baseline, deadline);
    baselineCalls = calls.length;
    baselineMs = Date.now() - started;
    const peak = maxInWindow(calls, 1_000);
    baseline.notes.push(`fault-free: ${calls.length} SES calls, peak ${peak} in one second`);
    if (peak > size.rate + 1) baseline.violations.push(`${peak} SES calls within one second, above --ses-rate-limit ${size.rate} (+1 burst)`);
    return verdict;
  });

  const result = await runScenario(
    faulty,
    {
      timeLimitMs: size.timeLimitMs,
      faults: () => `SES: ${FAULTS.throttleFraction * 100}% throttled (429), ${FAULTS.errorFraction * 100}% 500, +${FAULTS.latencyMs} ms per call`,
      cleanup: { operator: operatorArgs },
    },
    async (deadline) => {
      await faulty.startOperator(operatorArgs);
      await faulty.env.sim.setFaults(FAULTS);
      let outcome: { verdict: Verdict; calls: CallRecord[] };
      try {
        outcome = await lifecycle(faulty, deadline);
      } finally {
        await faulty.env.sim.setFaults({});
      }
      const { verdict, calls } = outcome;
      const throttled = calls.filter((c) => c.status === 429).length;
      const failed = calls.filter((c) => c.status === 500).length;
      const peak = maxInWindow(calls, 1_000);
      const spanS = calls.length > 1 ? (calls.at(-1)!.at - calls[0]!.at) / 1000 : 0;
      faulty.notes.push(
        `${calls.length} SES calls (${throttled} answered 429, ${failed} answered 500) vs ${baselineCalls} fault-free: ${(calls.length / Math.max(1, baselineCalls)).toFixed(2)}x (limit 2x); ` +
          `peak ${peak} calls in one second at --ses-rate-limit ${size.rate}, ${(calls.length / Math.max(1, spanS)).toFixed(1)}/s on average; ` +
          `fault-free run took ${(baselineMs / 1000).toFixed(1)} s`,
      );
      if (baselineCalls === 0) faulty.violations.push('the fault-free run made no SES calls: no yardstick');
      if (calls.length > 2 * baselineCalls) faulty.violations.push(`${calls.length} SES calls under faults, more than 2x the fault-free ${baselineCalls}`);
      if (peak > size.rate + 1)
        faulty.violations.push(`${peak} SES calls within one second, above --ses-rate-limit ${size.rate} (+1 burst): the rate limiter did not hold`);
      if (throttled === 0 || failed === 0) faulty.violations.push(`faults were not exercised (${throttled} throttled, ${failed} failed)`);
      return verdict;
    },
  );
  // One row: both runs' objects must converge; SES calls are the faulty run's.
  return {
    ...result,
    objects: result.objects + base.objects,
    converged: result.converged + base.converged,
    leaked: result.leaked + base.leaked,
    duplicated: result.duplicated + base.duplicated,
    timeMs: result.timeMs + base.timeMs,
    violations: [...base.violations.map((v) => `fault-free run: ${v}`), ...result.violations],
    notes: [...base.notes, ...result.notes],
    logFiles: [...base.logFiles, ...result.logFiles],
    watchedVersions: base.watchedVersions + result.watchedVersions,
  };
}

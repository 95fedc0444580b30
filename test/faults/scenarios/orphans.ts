import { RETAINED_TAG } from '../../../src/api/group.ts';
import { plantForeign } from '../foreign.ts';
import type { TrackedSetup } from '../invariants.ts';
import { FAST_SWEEP_FLAGS, type FaultOperator } from '../operator.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { setups: 30, stripped: 12, deletedWhileDown: 4, retained: 6, retainedStripped: 3, timeLimitMs: 4 * 60_000 },
  small: { setups: 9, stripped: 3, deletedWhileDown: 1, retained: 2, retainedStripped: 1, timeLimitMs: 90_000 },
};

/** Sweeps watched after convergence, during which nothing retained or foreign may go. */
const QUIET_SWEEPS = 3;

/**
 * Orphans: setups are deleted while no operator runs, some with their finalizer stripped first (a
 * person, or kubernetes#77988), so no teardown ever runs for them. After the restart the orphan
 * sweep must delete exactly the Delete setups' tenants, identities and associations (the
 * invariants count anything left as leaked), while Retain setups (deleted the normal way before,
 * or stripped like the others after a sweep tagged them) and an untagged tenant and identity
 * someone else made stay untouched through several more sweeps.
 */
export async function orphans(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const w = new Workload(ctx, 'orphans', 'o');
  let orphaned = 0;
  let sweptLines = 0;
  let sweptAfterMs = 0;
  return runScenario(
    w,
    {
      timeLimitMs: size.timeLimitMs,
      faults: () =>
        `${size.stripped + size.retainedStripped} finalizers stripped (${size.retainedStripped} Retain) + ${size.deletedWhileDown} other deletions while the operator is down; ` +
        `${size.retained} Retain deletions; foreign tenant + identity`,
    },
    async (deadline) => {
      let operator: FaultOperator = await w.startOperator({ args: FAST_SWEEP_FLAGS });
      await plantForeign(w);

      const planned: TrackedSetup[] = [];
      for (let i = 0; i < size.setups; i++) {
        const tracked = w.plan(`s${i}`, { deletionPolicy: i < size.retained + size.retainedStripped ? 'Retain' : 'Delete' });
        await w.create(tracked);
        planned.push(tracked);
      }
      const ready = await w.waitConverged(deadline, 'every setup Ready');
      if (ready.converged !== ready.objects) return ready;

      // Retain, deleted the normal way while the operator runs: its finalizer tags what it keeps.
      const retained = planned.filter((t) => t.deletionPolicy === 'Retain').slice(0, size.retained);
      const retainedStripped = planned.filter((t) => t.deletionPolicy === 'Retain').slice(size.retained);
      for (const tracked of retained) await w.delete(tracked);
      const kept = await w.waitConverged(deadline, 'Retain deletions');
      if (kept.converged !== kept.objects) return kept;
      const tagged = (resource: { tags: { Key: string }[] } | undefined) => resource?.tags.some((tag) => tag.Key === RETAINED_TAG) === true;
      const state = await w.env.sim.state();
      const unmarked = retained.filter((t) => !tagged(state.tenants.find((x) => x.name === t.tenantName)));
      if (unmarked.length) w.violations.push(`Retain deletions without the retained tag: ${unmarked.map((t) => t.name).join(', ')}`);
      // A live Retain setup is tagged by a sweep ahead of any deletion: wait for that before stripping its finalizer.
      while (Date.now() < deadline) {
        const now = await w.env.sim.state();
        const done = retainedStripped.every(
          (t) => tagged(now.tenants.find((x) => x.name === t.tenantName)) && tagged(now.identities.find((x) => x.name === t.domain)),
        );
        if (done) break;
        await sleep(250);
      }

      // The operator goes down; setups are deleted meanwhile, most with their finalizer stripped.
      await operator.kill();
      const deletable = planned.filter((t) => t.deletionPolicy === 'Delete');
      const stripped = deletable.slice(0, size.stripped);
      for (const tracked of [...stripped, ...retainedStripped]) {
        await w.env.kube.clearSetupFinalizers(tracked.name);
        await w.delete(tracked);
      }
      for (const tracked of deletable.slice(size.stripped, size.stripped + size.deletedWhileDown)) await w.delete(tracked);
      for (const tracked of stripped) {
        while ((await w.env.kube.getSetup(tracked.name)) && Date.now() < deadline) await sleep(100);
      }
      const before = await w.env.sim.state();
      orphaned = stripped.filter((t) => before.tenants.some((x) => x.name === t.tenantName)).length;
      if (orphaned !== stripped.length) w.violations.push(`only ${orphaned} of ${stripped.length} stripped setups left SES resources behind`);

      const restartedAt = Date.now();
      operator = await w.startOperator({ args: FAST_SWEEP_FLAGS });
      const swept = await w.waitConverged(deadline, 'orphans swept');
      sweptAfterMs = Date.now() - restartedAt;
      if (swept.converged !== swept.objects || swept.leaked > 0) return swept;

      // Retained and foreign resources stay through more sweeps (the invariants check both again).
      const sweepsNow = await sweepsDone(operator);
      while ((await sweepsDone(operator)) < sweepsNow + QUIET_SWEEPS && Date.now() < deadline) await sleep(250);
      if ((await sweepsDone(operator)) < sweepsNow + QUIET_SWEEPS) w.violations.push(`fewer than ${QUIET_SWEEPS} sweeps after convergence`);
      const lines = (await operator.logs()).filter((line) => String(line.msg).startsWith('orphan swept'));
      const ours = lines.filter((line) => w.ownsTenant(String(line.name)) || w.ownsIdentity(String(line.name)));
      sweptLines = ours.length;
      if (sweptLines !== 2 * orphaned) w.violations.push(`${sweptLines} "orphan swept" log lines for this scenario, want ${2 * orphaned}`);
      w.notes.push(
        `${orphaned} Delete setups orphaned (finalizer stripped while down), their ${sweptLines} resources swept ${(sweptAfterMs / 1000).toFixed(1)} s after the restart; ` +
          `${retained.length} Retain deletions, ${retainedStripped.length} Retain setups removed with their finalizer stripped, and a foreign tenant + identity ` +
          `kept through ${QUIET_SWEEPS} more sweeps`,
      );
      return w.check();
    },
  );
}

async function sweepsDone(operator: FaultOperator): Promise<number> {
  return (await operator.logs()).filter((line) => line.msg === 'orphan sweep done').length;
}

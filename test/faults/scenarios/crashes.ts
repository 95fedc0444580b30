import type { TrackedSetup } from '../invariants.ts';
import { launchOperator, type FaultOperator } from '../operator.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { setups: 50, deletes: 25, kills: 20, createEveryMs: 900, timeLimitMs: 8 * 60_000 },
  small: { setups: 12, deletes: 6, kills: 6, createEveryMs: 700, timeLimitMs: 100_000 },
};

const CREATES = new Set(['CreateTenant', 'CreateEmailIdentity', 'CreateTenantResourceAssociation']);

/**
 * 1. Crashes: setups are created and deleted while the operator is SIGKILLed at random moments
 * and restarted. Half the kills are aimed: the chaos loop watches the simulator's call log and
 * kills the operator the moment an SES create succeeds, then confirms from the API server that
 * the setup's status does not record it yet (the crash window of the ownership rule in docs/operations.md).
 */
export async function crashes(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const w = new Workload(ctx, 'crashes', 'c');
  let kills = 0;
  let aimed = 0;
  let midCreate = 0;
  let duringStartup = 0;
  return runScenario(
    w,
    {
      timeLimitMs: size.timeLimitMs,
      faults: () => `SIGKILL x${kills} (${midCreate} between an SES create and its status write, ${duringStartup} during start-up)`,
    },
    async (deadline) => {
      const launch = () => {
        const started = w.adopt(launchOperator(w.operatorSpec()));
        started.ready().catch(() => undefined); // marks runningAt; a kill during start-up ends it
        return started;
      };
      let operator: FaultOperator = launch();
      await operator.ready();
      let workloadDone = false;

      const workload = (async () => {
        const live: TrackedSetup[] = [];
        let deleted = 0;
        for (let i = 0; i < size.setups && Date.now() < deadline; i++) {
          // One setup in four has deletionPolicy Retain: if deleted, its SES resources must stay; the others must go.
          const retain = i % 4 === 1;
          const tracked = w.plan(`s${i}`, { deletionPolicy: retain ? 'Retain' : 'Delete' });
          await w.create(tracked);
          live.push(tracked);
          // Delete at a spread of moments: right after creation (creation in flight), or a random earlier one.
          const dueDeletes = Math.floor(((i + 1) * size.deletes) / size.setups);
          while (deleted < dueDeletes && live.length > 0) {
            // Every third deletion takes a Retain setup when there is one; otherwise the newest (30%) or any.
            const retained = deleted % 3 === 1 ? live.findIndex((t) => t.deletionPolicy === 'Retain') : -1;
            const pick = retained >= 0 ? retained : Math.random() < 0.3 ? live.length - 1 : Math.floor(Math.random() * live.length);
            const [victim] = live.splice(pick, 1);
            if (Math.random() < 0.5) await sleep(Math.random() * 400);
            await w.delete(victim!);
            deleted++;
          }
          await sleep(size.createEveryMs * (0.5 + Math.random()));
        }
        workloadDone = true;
      })();

      const chaos = (async () => {
        let seq = (await w.env.sim.calls(Number.MAX_SAFE_INTEGER)).total;
        while ((kills < size.kills || !workloadDone) && Date.now() < deadline) {
          const aim = kills % 2 === 0;
          const startedAt = Date.now();
          let window: { operation: string; target: string } | undefined;
          if (aim) {
            // Kill the moment an SES create of ours succeeds (poll the call log every 10 ms), at most 6 s.
            while (!window && Date.now() - startedAt < 6_000) {
              const report = await w.env.sim.calls(seq);
              for (const call of report.log) {
                seq = Math.max(seq, call.seq);
                if (
                  !window &&
                  call.status === 200 &&
                  CREATES.has(call.operation) &&
                  call.target &&
                  (w.ownsTenant(call.target) || w.ownsIdentity(call.target))
                ) {
                  window = { operation: call.operation, target: call.target };
                }
              }
              if (!window) await sleep(10);
            }
          } else {
            await sleep(200 + Math.random() * 2_800);
            seq = (await w.env.sim.calls(Number.MAX_SAFE_INTEGER)).total;
          }
          const running = operator.runningAt !== undefined;
          await operator.kill();
          kills++;
          if (!running) duringStartup++;
          if (window) {
            aimed++;
            if (await notInStatusYet(w, window)) midCreate++;
          }
          await sleep(Math.random() * 500);
          operator = launch();
        }
      })();

      await Promise.all([workload, chaos]);
      await operator.ready('running', 60_000);
      const deletedSetups = [...w.setups.values()].filter((t) => t.deleted);
      w.notes.push(
        `${kills} kills: ${aimed} aimed at a just-completed SES create (${midCreate} confirmed not yet in status), ${duringStartup} during start-up; ` +
          `${w.setups.size} setups created, ${deletedSetups.length} deleted (${deletedSetups.filter((t) => t.deletionPolicy === 'Retain').length} with Retain)`,
      );
      if (kills < size.kills) w.violations.push(`only ${kills} kills of ${size.kills} before the deadline`);
      if (midCreate === 0) w.violations.push('no kill landed between an SES create and its status write');
      return w.waitConverged(deadline);
    },
  );
}

/** True when the setup the call was for does not record the created resource in status yet. */
async function notInStatusYet(w: Workload, call: { operation: string; target: string }): Promise<boolean> {
  const tracked = [...w.setups.values()].find((t) => t.tenantName === call.target || t.domain === call.target);
  if (!tracked) return false;
  const setup = await w.env.kube.getSetup(tracked.name);
  if (!setup) return false;
  const status = setup.status;
  if (call.operation === 'CreateTenant') return !status?.tenant?.arn;
  if (call.operation === 'CreateEmailIdentity') return !status?.identity?.dkimTokens?.length;
  return status?.identity?.tenantAssociated !== true;
}

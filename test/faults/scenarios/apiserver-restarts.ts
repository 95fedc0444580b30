import { VERIFY_ANNOTATION } from '../../../src/api/group.ts';
import type { TrackedSetup } from '../invariants.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { restarts: 6, perRound: 5, timeLimitMs: 6 * 60_000 },
  small: { restarts: 2, perRound: 3, timeLimitMs: 100_000 },
};

/**
 * 2. kube-apiserver is SIGKILLed and started again on the same etcd several times while the
 * operator works. Right before each kill and right after each restart the scenario creates,
 * deletes and asks for verification, so a watch that resumed at the wrong point would miss a
 * change. The operator (leader-elected, default timings) must ride it out in one process.
 */
export async function apiserverRestarts(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const restart = ctx.env.restartApiserver;
  const w = new Workload(ctx, 'apiserver-restarts', 'a');
  let restarts = 0;
  let downMs = 0;
  return runScenario(
    w,
    { timeLimitMs: size.timeLimitMs, faults: () => `kube-apiserver SIGKILL + restart x${restarts} (down ${(downMs / 1000).toFixed(1)} s in all)` },
    async (deadline) => {
      if (!restart) throw new Error('this scenario needs a stack of its own (kube-apiserver restarts)');
      const namespace = await w.namespace('lease');
      const operator = await w.startOperator({ args: ['--leader-elect', '--leader-election-namespace', namespace, '--leader-election-id', w.prefix] });
      const live: TrackedSetup[] = [];
      const verifies = new Map<string, string>();
      let n = 0;
      const change = async (round: string) => {
        // One new setup, one deletion, one verify request: each must be acted on.
        const tracked = w.plan(`s${n++}`);
        await w.create(tracked);
        live.push(tracked);
        const deletable = live.filter((t) => t !== tracked && !verifies.has(t.name));
        if (deletable.length > 2) {
          const victim = deletable[Math.floor(Math.random() * deletable.length)]!;
          live.splice(live.indexOf(victim), 1);
          await w.delete(victim);
        }
        // A verify request on a setup that has none pending yet (each must be answered once).
        const target = live.find((t) => t !== tracked && !verifies.has(t.name)) ?? live[0]!;
        const value = `${round}-${Date.now()}`;
        await w.env.kube.annotateSetup(target.name, { [VERIFY_ANNOTATION]: value });
        verifies.set(target.name, value);
      };
      for (let round = 0; round < size.restarts && Date.now() < deadline; round++) {
        for (let i = 0; i < size.perRound; i++) {
          const tracked = w.plan(`s${n++}`);
          await w.create(tracked);
          live.push(tracked);
        }
        await sleep(300 + Math.random() * 1_500); // the operator is mid-work
        await change(`before${round}`);
        const down = Date.now();
        await restart();
        downMs += Date.now() - down;
        restarts++;
        await change(`after${round}`);
        await sleep(1_000 + Math.random() * 2_000);
      }
      const verdict = await w.waitConverged(deadline);
      // Every verify request made around a restart was answered (status echoes the last one per setup).
      const unanswered: string[] = [];
      const verifyDeadline = Math.min(deadline, Date.now() + 20_000);
      for (const [name, value] of verifies) {
        if (w.setups.get(name)?.deleted) continue;
        for (;;) {
          const setup = await w.env.kube.getSetup(name);
          if (!setup || setup.status?.lastHandledVerifyRequest === value) break;
          if (Date.now() > verifyDeadline) {
            unanswered.push(`${name} (${value}, status has ${setup.status?.lastHandledVerifyRequest})`);
            break;
          }
          await sleep(250);
        }
      }
      if (unanswered.length) w.violations.push(`verify requests not answered: ${unanswered.join(', ')}`);
      if (!operator.alive()) w.violations.push(`the operator exited (${operator.exitCode}): it should have ridden out the restarts`);
      const lines = await operator.logs();
      const watchRetries = lines.filter((line) => typeof line.msg === 'string' && /watch failed|list failed|relisting/.test(line.msg)).length;
      const leaseFailures = lines.filter((line) => line.msg === 'leader election: lease request failed').length;
      w.notes.push(
        `one operator process throughout (pid ${operator.process.pid}, ${operator.alive() ? 'alive' : 'EXITED'}); its informers re-watched/re-listed ${watchRetries} times, ${leaseFailures} lease renewals failed and were retried; ${verifies.size} verify requests around restarts all answered: ${unanswered.length === 0}; the test's own watch reconnected ${w.observer.reconnects} times`,
      );
      return verdict;
    },
  );
}

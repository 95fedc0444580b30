import { REGION_ANNOTATION } from '../../../src/api/group.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { plantForeign } from '../foreign.ts';
import type { TrackedSetup } from '../invariants.ts';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { perRegion: 12, inFlight: 8, afterSwitch: 12, timeLimitMs: 4 * 60_000 },
  small: { perRegion: 3, inFlight: 3, afterSwitch: 3, timeLimitMs: 90_000 },
};

/** Regions besides the stack's default: one setups name in spec.region, one the operator is restarted with. */
function regionsBeside(stackRegion: string): { named: string; switchedTo: string } {
  const [named, switchedTo] = ['eu-west-1', 'ap-southeast-2', 'us-west-2'].filter((region) => region !== stackRegion);
  return { named: named!, switchedTo: switchedTo! };
}

/**
 * Regions: setups live in two regions at once (half name eu-west-1 in spec.region, half take the
 * operator's default), then the operator is stopped while more setups are being created and
 * restarted with another default region. Setups SES had seen stay where they were created;
 * only setups no SES call had named yet go to the new default. Setups of every region are deleted
 * and created after the switch, and the cleanup's operator runs with the first default again.
 * The invariants key every tenant, identity and association by region: a copy in the wrong region
 * counts as leaked, a second create in any region as duplicated, and an untagged tenant and identity
 * with the same names in both first regions must stay untouched.
 */
export async function regions(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const w = new Workload(ctx, 'regions', 'r');
  const first = w.env.region;
  const { named, switchedTo } = regionsBeside(first);
  let pinnedInFlight = 0;
  let createdInFlight = 0;
  let killedMidCreate = false;
  let deletedAfterSwitch = 0;
  return runScenario(
    w,
    {
      timeLimitMs: size.timeLimitMs,
      faults: () =>
        `operator SIGKILLed ${killedMidCreate ? 'right after an SES create' : 'mid-run'} and restarted with --region ${switchedTo} (was ${first}) while ${size.inFlight} creations were in flight (${createdInFlight} already created in SES); ` +
        `setups in ${first} and ${named} (spec.region); ${deletedAfterSwitch} deletions after the switch; foreign tenant + identity in both`,
    },
    async (deadline) => {
      let operator = await w.startOperator();
      await plantForeign(w, first);
      await plantForeign(w, named);

      // Two regions at once; one setup in four keeps its SES resources when deleted.
      const before: TrackedSetup[] = [];
      for (let i = 0; i < 2 * size.perRegion; i++) {
        const inNamed = i % 2 === 0;
        const tracked = w.plan(`b${i}`, {
          deletionPolicy: i % 4 === 1 ? 'Retain' : 'Delete',
          ...(inNamed ? { specRegion: named } : { region: first }),
        });
        await w.create(tracked);
        before.push(tracked);
      }
      const settled = await w.waitConverged(deadline, `setups in ${first} and ${named}`);
      if (settled.converged !== settled.objects) return settled;

      // Creations in flight when the operator is SIGKILLed, aimed the moment SES created the first one's tenant
      // (before the status write that records its region); more created while no operator runs.
      const inFlight: TrackedSetup[] = [];
      const mark = await w.env.sim.mark();
      for (let i = 0; i < size.inFlight; i++) {
        const tracked = w.plan(`f${i}`);
        await w.create(tracked);
        inFlight.push(tracked);
        if (i === Math.floor(size.inFlight / 2) - 1) {
          killedMidCreate = await killAfterCreate(w, mark, inFlight, () => operator.kill());
        }
      }
      if (operator.alive()) await operator.kill();
      // A setup SES created anything for must stay in the old default region; one it did not yet may go
      // to either (the old one if its status pinned it already), but to one only.
      const calls = await w.calls();
      for (const tracked of inFlight) {
        const created = calls.some(
          (call) =>
            call.status === 200 &&
            call.region === first &&
            call.operation.startsWith('Create') &&
            (call.target === tracked.tenantName || call.target === tracked.domain),
        );
        // Pinned before the first SES call: in the finalizer's write (annotation), in status from the first status write on.
        const stored = await w.env.kube.getSetup(tracked.name);
        const pinned = stored?.status?.region ?? stored?.metadata.annotations?.[REGION_ANNOTATION];
        tracked.region = created ? first : (pinned ?? switchedTo);
        if (created) createdInFlight++;
        if (tracked.region === first) pinnedInFlight++;
      }
      operator = await w.startOperator({ args: ['--region', switchedTo] });

      // After the switch: new setups in the new default and in the named region; old ones of both regions deleted.
      const after: TrackedSetup[] = [];
      for (let i = 0; i < size.afterSwitch; i++) {
        const tracked = w.plan(`a${i}`, i % 3 === 2 ? { specRegion: named } : { region: switchedTo });
        await w.create(tracked);
        after.push(tracked);
      }
      const doomed = [...before.filter((_, i) => i % 3 !== 2), ...inFlight.filter((_, i) => i % 2 === 0), ...after.filter((_, i) => i % 4 === 0)];
      for (const tracked of doomed) {
        await w.delete(tracked);
        deletedAfterSwitch++;
      }
      const verdict = await w.waitConverged(deadline, `deletions and creations after the switch to ${switchedTo}`);

      const state = await w.env.sim.state();
      const used = Object.entries(state.regions)
        .filter(([, held]) => held.tenants.some((t) => w.ownsTenant(t.name)) || held.identities.some((i) => w.ownsIdentity(i.name)))
        .map(([region]) => region)
        .sort();
      const want = [first, named, switchedTo].sort();
      if (JSON.stringify(used) !== JSON.stringify(want)) w.violations.push(`scenario resources in regions ${used.join(', ')}; want ${want.join(', ')}`);
      w.notes.push(
        `${before.length} setups before the switch (${size.perRegion} in ${first}, ${size.perRegion} in ${named}), ${inFlight.length} in flight at the restart ` +
          `(${createdInFlight} already created in SES, ${pinnedInFlight} kept ${first}), ${after.length} after it; ${deletedAfterSwitch} deleted after the switch; regions holding resources: ${used.join(', ')}`,
      );
      return verdict;
    },
  );
}

/** Kills the operator the moment SES answers a create for one of `setups` (polling the call log), or after 6 s. */
async function killAfterCreate(w: Workload, since: number, setups: TrackedSetup[], kill: () => Promise<void>): Promise<boolean> {
  const names = new Set(setups.flatMap((t) => [t.tenantName, t.domain]));
  const until = Date.now() + 6_000;
  let seq = since;
  while (Date.now() < until) {
    const report = await w.env.sim.calls(seq);
    for (const call of report.log) seq = Math.max(seq, call.seq);
    if (report.log.some((call) => call.status === 200 && call.operation.startsWith('Create') && call.target && names.has(call.target))) {
      await kill();
      return true;
    }
    await sleep(10);
  }
  await kill();
  return false;
}

import { fastLeaderElectionFlags } from '../../../harness/stack/local-operator.ts';
import type { TrackedSetup } from '../invariants.ts';
import { launchOperator, type FaultOperator } from '../operator.ts';
import { SesTapLog, type TappedCall } from '../ses-tap.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { setups: 40, kills: 3, createEveryMs: 500, timeLimitMs: 5 * 60_000 },
  small: { setups: 10, kills: 1, createEveryMs: 400, timeLimitMs: 100_000 },
};

interface Replica {
  name: string;
  operator: FaultOperator;
}

/** [first, last] activity per key; two owners overlap when their intervals intersect. */
type Intervals = Map<string, Map<string, [number, number]>>;

function addInterval(intervals: Intervals, key: string, owner: string, start: number, end: number): void {
  const owners = intervals.get(key) ?? new Map<string, [number, number]>();
  intervals.set(key, owners);
  const span = owners.get(owner);
  owners.set(owner, span ? [Math.min(span[0], start), Math.max(span[1], end)] : [start, end]);
}

/** Keys worked on by two owners at overlapping times, with the owners and intervals. */
export function overlaps(intervals: Intervals): string[] {
  const found: string[] = [];
  for (const [key, owners] of intervals) {
    const list = [...owners];
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const [a, [a0, a1]] = list[i]!;
        const [b, [b0, b1]] = list[j]!;
        if (a0 <= b1 && b0 <= a1) found.push(`${key}: ${a} [${a0}, ${a1}] and ${b} [${b0}, ${b1}]`);
      }
  }
  return found;
}

/**
 * 5. Leader failover under load: two leader-elected replicas, each calling SES through its own tap
 * so every call is attributed; setups keep arriving while the leader is SIGKILLed (and a fresh
 * replica started) mid-run. No setup may be worked on by two replicas at overlapping times,
 * judged twice: by the SES calls each replica made per tenant/identity, and by each replica's own
 * reconcile log lines per SesSetup. A standby may make no SES call before it leads.
 */
export async function leaderFailover(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const w = new Workload(ctx, 'leader-failover', 'l');
  const taps = new SesTapLog(ctx.env.sesEndpoint);
  const closers: (() => Promise<void>)[] = [];
  let kills = 0;
  const takeovers: number[] = [];
  try {
    return await runScenario(
      w,
      { timeLimitMs: size.timeLimitMs, faults: () => `leader SIGKILL x${kills} under load (2 replicas, 4 s lease)` },
      async (deadline) => {
        const namespace = await w.namespace('lease');
        const leaseId = `ses-operator-${w.prefix}`;
        let count = 0;
        const replicas: Replica[] = [];
        const startReplica = async (): Promise<Replica> => {
          const name = `replica${++count}`;
          const tap = await taps.tap(name);
          closers.push(tap.close);
          const operator = w.adopt(
            launchOperator(
              w.operatorSpec({
                sesEndpoint: tap.url,
                args: fastLeaderElectionFlags(namespace, leaseId),
              }),
            ),
          );
          await operator.ready();
          const replica = { name, operator };
          replicas.push(replica);
          return replica;
        };
        const isLeader = async (replica: Replica) => {
          if (!replica.operator.alive() || !replica.operator.metricsUrl) return false;
          const text = await (await fetch(`${replica.operator.metricsUrl}/metrics`)).text().catch(() => '');
          return text.includes(`leader_election_master_status{name="${leaseId}"} 1`);
        };
        const leader = async (): Promise<Replica> => {
          for (;;) {
            const alive = replicas.filter((r) => r.operator.alive());
            const flags = await Promise.all(alive.map(isLeader));
            if (flags.filter(Boolean).length === 1) return alive[flags.indexOf(true)]!;
            if (Date.now() > deadline) throw new Error('no single leader');
            await sleep(100);
          }
        };
        await Promise.all([startReplica(), startReplica()]);
        await leader();

        const tracked: TrackedSetup[] = [];
        const killAt = Array.from({ length: size.kills }, (_, k) => Math.floor(((k + 1) * size.setups) / (size.kills + 1)));
        for (let i = 0; i < size.setups && Date.now() < deadline; i++) {
          const t = w.plan(`s${i}`);
          await w.create(t);
          tracked.push(t);
          if (killAt.includes(i)) {
            // Mid-run: only kill a leader that is busy with SES right now.
            const current = await leader();
            const busyUntil = Date.now() + 5_000;
            while (!taps.calls.some((c) => c.replica === current.name && c.end > Date.now() - 300) && Date.now() < busyUntil) await sleep(20);
            await current.operator.kill();
            const killedAt = Date.now();
            kills++;
            await startReplica();
            const next = await leader();
            takeovers.push(Date.now() - killedAt);
            w.log(`killed ${current.name}; ${next.name} leads after ${Date.now() - killedAt} ms`);
          }
          await sleep(size.createEveryMs * (0.5 + Math.random()));
        }
        const verdict = await w.waitConverged(deadline);

        // Who worked on what, when: SES calls per tenant/identity, reconcile log lines per SesSetup.
        const mine = (c: TappedCall) => c.target && (w.ownsTenant(c.target) || w.ownsIdentity(c.target));
        const byCalls: Intervals = new Map();
        for (const call of taps.calls.filter(mine)) addInterval(byCalls, call.target!, call.replica, call.start, call.end);
        const byLogs: Intervals = new Map();
        const becameLeader = new Map<string, number>();
        for (const replica of replicas) {
          for (const line of await replica.operator.logs()) {
            const at = Date.parse(String(line.time));
            if (line.msg === 'became leader') becameLeader.set(replica.name, at);
            if (typeof line.sessetup === 'string' && w.ownsSetup(line.sessetup)) addInterval(byLogs, line.sessetup, replica.name, at, at);
          }
        }
        const doubled = [...overlaps(byCalls), ...overlaps(byLogs)];
        for (const overlap of doubled) w.violations.push(`reconciled by two replicas at once: ${overlap}`);
        w.extraDuplicated += doubled.length;
        for (const replica of replicas) {
          const first = taps.calls.find((c) => c.replica === replica.name);
          const led = becameLeader.get(replica.name);
          if (first && (led === undefined || first.start < led))
            w.violations.push(`${replica.name} called SES before it led (${first.operation} at ${first.start}, led at ${led})`);
        }
        const workers = new Set(taps.calls.filter(mine).map((c) => c.replica));
        w.notes.push(
          `${replicas.length} replicas, ${kills} leader kills, take-over in ${takeovers.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}; ` +
            `${workers.size} replicas did SES work; ${byCalls.size} SES names and ${byLogs.size} setups checked: ${doubled.length} worked on by two replicas at once`,
        );
        if (workers.size < 2) w.violations.push('the load did not span a failover (only one replica did SES work)');
        return verdict;
      },
    );
  } finally {
    for (const close of closers) await close();
  }
}

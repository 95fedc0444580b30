import type { SesSetup } from '../../../src/api/sessetup.ts';
import { plantForeign } from '../foreign.ts';
import type { TrackedSetup } from '../invariants.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { racePairs: 5, inFlightRounds: 3, storm: 150, timeLimitMs: 5 * 60_000 },
  small: { racePairs: 2, inFlightRounds: 1, storm: 30, timeLimitMs: 100_000 },
};

const IN_FLIGHT_LATENCY_MS = 600;

const condition = (object: { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined, type: string) =>
  object?.status?.conditions?.find((c) => c.type === type);

/**
 * 6. Conflicting and hostile inputs, all at once against one operator:
 * - a tenant and an identity that exist in SES without the operator's tag: not taken over, not
 *   deleted (also not when their setups are deleted), a clear Stalled condition;
 * - pairs of setups created back to back for one tenantName: exactly one proceeds, the other
 *   reports a conflict and creates nothing; deleting the winner lets the loser proceed;
 * - an EmailUseCase pointing at a missing setup (SetupNotFound, then Ready once the setup exists);
 * - setups deleted while their creation is in flight (SES answering slowly): at each step of it;
 * - a use case created while its setup's deletion is blocked: the deletion waits again.
 */
export async function hostileInputs(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const w = new Workload(ctx, 'hostile-inputs', 'h');
  const wait = async <T>(what: string, deadline: number, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T | undefined> => {
    const until = Math.min(deadline, Date.now() + timeoutMs);
    for (;;) {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > until) {
        w.violations.push(`timed out waiting for ${what}`);
        return undefined;
      }
      await sleep(200);
    }
  };
  return runScenario(
    w,
    {
      timeLimitMs: size.timeLimitMs,
      faults: () =>
        `foreign tenant + identity, ${size.racePairs} tenantName races, dangling use case, ${size.inFlightRounds * 7 + size.storm} deletes mid-creation, use case during deletion`,
    },
    async (deadline) => {
      const operator = await w.startOperator();
      const namespace = await w.namespace('apps');

      // Deleted while creation is in flight: SES answers slowly so every step of creation can be hit.
      await w.env.sim.setFaults({ latencyMs: IN_FLIGHT_LATENCY_MS });
      // "at once" several times: a DELETE racing the operator's finalizer patch is where kube-apiserver
      // can remove an object that carries the finalizer (kubernetes/kubernetes#77988).
      const moments = ['at once', 'at once', 'at once', 'finalizer added', 'CreateTenant done', 'CreateEmailIdentity done', 'association done'] as const;
      const hits: string[] = [];
      try {
        for (let round = 0; round < size.inFlightRounds; round++) {
          await Promise.all(
            moments.map(async (moment, index) => {
              const t = w.plan(`inflight${round}x${index}`);
              await w.create(t);
              const hit = await wait(`${t.name}: ${moment}`, deadline, async () => {
                if (moment === 'at once') return true;
                if (moment === 'finalizer added') return (await w.env.kube.getSetup(t.name))?.metadata.finalizers?.length ? true : undefined;
                const operation = {
                  'CreateTenant done': 'CreateTenant',
                  'CreateEmailIdentity done': 'CreateEmailIdentity',
                  'association done': 'CreateTenantResourceAssociation',
                }[moment];
                const target = operation === 'CreateEmailIdentity' ? t.domain : t.tenantName;
                return (await w.calls()).some((c) => c.operation === operation && c.target === target && c.status === 200) ? true : undefined;
              });
              await w.delete(t);
              if (hit) hits.push(moment);
            }),
          );
        }
        await wait('the in-flight deletions to finish', deadline, async () => {
          const left = (await w.env.kube.listSetups()).filter((s) => s.metadata.name.includes('-inflight'));
          return left.length === 0 ? true : undefined;
        });
      } finally {
        await w.env.sim.setFaults({});
      }
      // A storm of creates each deleted at once, 30 at a time: the API server (watch cache under load)
      // now and then removes one that carries the finalizer the operator just added.
      for (let done = 0; done < size.storm && Date.now() < deadline; done += 30) {
        await Promise.all(
          Array.from({ length: Math.min(30, size.storm - done) }, async (_, i) => {
            const t = w.plan(`inflightstorm${done + i}`);
            await w.create(t);
            await w.delete(t);
          }),
        );
      }
      await wait('the storm of deletions to finish', deadline, async () => {
        const left = (await w.env.kube.listSetups()).filter((s) => s.metadata.name.includes('-inflight'));
        return left.length === 0 ? true : undefined;
      });
      // The watch tells which ones the API server removed while they carried the finalizer, never marked for deletion.
      const raced = w.observer.removedCarryingFinalizer().filter((name) => name.includes('-inflight')).length;
      w.notes.push(
        `deleted mid-creation at: ${[...new Set(hits)].join(', ')} (${hits.length} setups), plus ${size.storm} deleted right after creation; ` +
          `${raced} removed by the API server while carrying the operator's finalizer (kubernetes/kubernetes#77988)`,
      );

      // Foreign resources: an untagged tenant and identity someone else made in SES.
      const { tenant: foreignTenant, identity: foreignIdentity } = await plantForeign(w);
      const takesTenant = w.plan('foreigntenant', { tenantName: foreignTenant, expect: 'tenant-not-owned' });
      const takesIdentity = w.plan('foreignidentity', { domain: foreignIdentity, expect: 'identity-not-owned' });

      // tenantName races: "z" created first, "a" right after; creation order (then name) decides.
      const pairs: { winner: TrackedSetup; loser: TrackedSetup }[] = [];
      const racers = await Promise.all(
        Array.from({ length: size.racePairs }, async (_, p) => {
          const tenantName = `${w.prefix}_race${p}`;
          const z = w.plan(`race${p}z`, { tenantName });
          const a = w.plan(`race${p}a`, { tenantName });
          const created: SesSetup[] = [];
          created.push(await w.create(z));
          created.push(await w.create(a)); // back to back: usually within the same second
          return { z, a, created };
        }),
      );
      let sameSecond = 0;
      for (const { z, a, created } of racers) {
        // The earlier one must win; within one second (the timestamp's resolution) either may, but exactly one.
        const [zAt, aAt] = created.map((s) => s.metadata.creationTimestamp);
        if (zAt === aAt) sameSecond++;
        const settled = await wait(`the ${z.tenantName} race to settle`, deadline, async () => {
          const [zNow, aNow] = await Promise.all([w.env.kube.getSetup(z.name), w.env.kube.getSetup(a.name)]);
          const conflicted = (s: SesSetup | undefined) => condition(s, 'Ready')?.reason === 'TenantNameConflict';
          const holds = (s: SesSetup | undefined) => condition(s, 'TenantReady')?.status === 'True';
          if (holds(zNow) && conflicted(aNow)) return { winner: z, loser: a };
          if (holds(aNow) && conflicted(zNow)) return { winner: a, loser: z };
          return undefined;
        });
        const pair = settled ?? { winner: z, loser: a };
        if (settled && zAt !== aAt && pair.winner !== z) w.violations.push(`${a.name}, created a second later, won the ${z.tenantName} race`);
        pair.loser.expect = 'conflict';
        pair.loser.publish = false;
        pairs.push(pair);
      }
      w.notes.push(
        `${pairs.length} tenantName races (${sameSecond} within the same second): one winner each (${pairs.map((p) => p.winner.name.slice(-1)).join(', ')})`,
      );

      // A use case pointing at a setup that does not exist yet.
      const late = w.plan('late');
      await w.createUseCase(namespace, 'dangling', late.name, `news@${late.domain}`);

      await Promise.all([w.create(takesTenant), w.create(takesIdentity)]);
      const dangling = await wait('the dangling use case to say SetupNotFound', deadline, async () => {
        const ready = condition(await w.env.kube.getUseCase(namespace, 'dangling'), 'Ready');
        return ready?.reason === 'SetupNotFound' ? ready : undefined;
      });
      if (dangling && dangling.status !== 'False') w.violations.push('a use case of a missing setup was Ready');
      await w.create(late);

      // A use case created while its setup's deletion waits for another one: the deletion waits again.
      const blocked = w.plan('blocked', { expect: 'records' });
      await w.create(blocked);
      await w.createUseCase(namespace, 'first', blocked.name, `a@${blocked.domain}`);
      await wait('usedBy of the blocked setup', deadline, async () => (await w.env.kube.getSetup(blocked.name))?.status?.usedByCount === 1);
      await w.delete(blocked);
      await wait('DeletionBlocked naming the first use case', deadline, async () =>
        condition(await w.env.kube.getSetup(blocked.name), 'DeletionBlocked')?.message.includes(`${namespace}/first`),
      );
      await w.createUseCase(namespace, 'second', blocked.name, `b@${blocked.domain}`);
      await w.env.kube.deleteUseCase(namespace, 'first');
      await sleep(3_000);
      const stillBlocked = await w.env.kube.getSetup(blocked.name);
      const message = condition(stillBlocked, 'DeletionBlocked')?.message ?? '';
      if (!stillBlocked) w.violations.push('the setup was deleted although a use case created during its deletion still referenced it');
      else if (!message.includes(`${namespace}/second`) || message.includes(`${namespace}/first`))
        w.violations.push(`DeletionBlocked does not name the new referrer: "${message}"`);
      else w.notes.push(`deletion waited again for a use case created during it: "${message}"`);
      await w.env.kube.deleteUseCase(namespace, 'second');

      // Everything settles: winners Ready, losers in conflict, foreign ones Stalled, the late one Ready.
      let verdict = await w.waitConverged(deadline, 'the contested setups to settle');
      const useCaseReady = await wait('the formerly dangling use case to turn Ready', deadline, async () =>
        condition(await w.env.kube.getUseCase(namespace, 'dangling'), 'Ready')?.status === 'True' ? true : undefined,
      );
      for (const t of [takesTenant, takesIdentity]) {
        const text = condition(await w.env.kube.getSetup(t.name), 'Ready')?.message ?? '';
        if (!text.includes('was not created by this SesSetup')) w.violations.push(`${t.name}: unclear condition "${text}"`);
      }
      for (const { loser, winner } of pairs) {
        const text = condition(await w.env.kube.getSetup(loser.name), 'Ready')?.message ?? '';
        if (!text.includes(`already claimed by SesSetup ${winner.name}`))
          w.violations.push(`${loser.name}: conflict condition does not name ${winner.name}: "${text}"`);
      }

      // Deleting the setups that wanted foreign resources must leave those resources alone;
      // deleting a race winner lets the loser proceed (a second tenant by that name is then fine).
      await w.delete(takesTenant);
      await w.delete(takesIdentity);
      const first = pairs[0]!;
      await w.delete(first.winner);
      first.loser.expect = 'ready';
      first.loser.publish = true;
      w.allowedCreates.set(first.loser.tenantName, 2);
      verdict = await w.waitConverged(deadline, 'the loser of a race to take over after the winner was deleted');
      w.notes.push(
        `foreign tenant and identity untouched after their claimants were deleted; the loser of a race took over once its winner was deleted; ` +
          `the dangling use case turned Ready once its setup existed: ${useCaseReady === true}`,
      );
      if (!operator.alive()) w.violations.push(`the operator exited (${operator.exitCode})`);
      return verdict;
    },
  );
}

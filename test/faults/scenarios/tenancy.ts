import type { EmailUseCase } from '../../../src/api/emailusecase.ts';
import type { SesSetup } from '../../../src/api/sessetup.ts';
import type { TrackedSetup } from '../invariants.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { setups: 12, relabels: 8, timeLimitMs: 6 * 60_000 },
  small: { setups: 4, relabels: 3, timeLimitMs: 120_000 },
};

/** How long one change (a relabel, a new selector) may take to show on every use case and setup. */
const SETTLE_MS = 30_000;

const condition = (object: { status?: { conditions?: { type: string; status: string; reason: string }[] } } | undefined, type: string) =>
  object?.status?.conditions?.find((c) => c.type === type);

/**
 * 8. Tenancy (spec.allowedNamespaces): every setup admits only namespaces labelled with its team,
 * and each has a use case in an admitted namespace and one in another. The other namespace is
 * relabelled in and out live (once while the operator is SIGKILLed, so the restart must read the
 * labels afresh), then half the setups change their selector. After each change every use case
 * must show the verdict the labels call for (NamespaceNotAllowed and Stalled exactly when refused)
 * and every setup must count exactly its admitted use cases. Finally setups are deleted while use
 * cases from refused namespaces still name them: the deletions must not wait for those, and SES
 * must be torn down as for any deletion.
 */
export async function tenancy(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const w = new Workload(ctx, 'tenancy', 't');
  let relabels = 0;
  let selectorChanges = 0;
  let kills = 0;
  let slowestMs = 0;
  return runScenario(
    w,
    {
      timeLimitMs: size.timeLimitMs,
      faults: () => `${relabels} live namespace relabels (1 while the operator was down), ${selectorChanges} selector changes, SIGKILL x${kills}`,
    },
    async (deadline) => {
      let operator = await w.startOperator();
      const billing = await w.namespace('billing');
      const shop = await w.namespace('shop');
      const team = `${w.prefix}-billing`;
      await w.env.kube.labelNamespace(billing, { team });
      const byTeam = { from: 'Selector', selector: { matchLabels: { team } } };
      const byName = {
        from: 'Selector',
        selector: { matchLabels: null, matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [shop] }] },
      };

      const setups = Array.from({ length: size.setups }, (_, i) => w.plan(`s${i}`));
      await Promise.all(setups.map((t) => w.create(t, { allowedNamespaces: byTeam })));
      const label = (t: TrackedSetup) => t.name.slice(w.prefix.length + 1);
      for (const t of setups) {
        await w.createUseCase(billing, label(t), t.name, `billing@${t.domain}`);
        await w.createUseCase(shop, label(t), t.name, `shop@${t.domain}`);
      }
      /** Which namespaces each setup admits now, as the test changed them. */
      const admits = new Map(setups.map((t) => [t.name, new Set([billing])]));

      const settle = async (what: string) => {
        const startedAt = Date.now();
        let wrong: string[] = [];
        while (Date.now() < Math.min(deadline, startedAt + SETTLE_MS)) {
          wrong = await mismatches(w, setups, admits, [billing, shop], label);
          if (wrong.length === 0) break;
          await sleep(200);
        }
        const tookMs = Date.now() - startedAt;
        slowestMs = Math.max(slowestMs, tookMs);
        if (wrong.length) w.violations.push(`${what}: not in effect after ${Math.round(tookMs / 1000)} s: ${wrong.slice(0, 5).join('; ')}`);
      };
      await settle('the first verdicts');

      // The shop namespace joins and leaves the team, live; the second change happens while no operator runs.
      for (let i = 0; i < size.relabels; i++) {
        const joins = i % 2 === 0;
        const whileDown = i === 1;
        if (whileDown) {
          await operator.kill();
          kills++;
        }
        await w.env.kube.labelNamespace(shop, { team: joins ? team : null });
        relabels++;
        for (const t of setups) {
          if (joins) admits.get(t.name)!.add(shop);
          else admits.get(t.name)!.delete(shop);
        }
        if (whileDown) operator = await w.startOperator();
        await settle(`relabel ${i + 1} (shop ${joins ? 'joins' : 'leaves'} the team${whileDown ? ', operator restarted' : ''})`);
      }

      // Half the setups now admit the shop namespace by name only, whatever its labels.
      for (const t of setups.filter((_, i) => i % 2 === 0)) {
        await w.env.kube.patchSetupSpec(t.name, { allowedNamespaces: byName });
        admits.set(t.name, new Set([shop]));
        selectorChanges++;
      }
      await settle('the selector changes');

      // Delete half the setups: their admitted use cases first; the refused ones stay and must not hold the deletion.
      const doomed = setups.filter((_, i) => i < setups.length / 2);
      for (const t of doomed) {
        for (const namespace of admits.get(t.name)!) await w.env.kube.deleteUseCase(namespace, label(t));
        await w.delete(t);
      }
      const verdict = await w.waitConverged(deadline, 'the deletions and the Ready of the others');
      let refusedLeft = 0;
      for (const t of doomed) {
        for (const namespace of [billing, shop].filter((ns) => !admits.get(t.name)!.has(ns))) {
          const useCase = await w.env.kube.getUseCase(namespace, label(t));
          if (!useCase) w.violations.push(`${namespace}/${label(t)} disappeared although nobody deleted it`);
          else refusedLeft++;
        }
      }
      w.notes.push(
        `${setups.length} setups, ${setups.length * 2} use cases in 2 namespaces; every change in effect within ${(slowestMs / 1000).toFixed(1)} s; ` +
          `${doomed.length} setups deleted while ${refusedLeft} use cases from refused namespaces still named them`,
      );
      if (!operator.alive()) w.violations.push(`the operator exited (${operator.exitCode})`);
      return verdict;
    },
  );
}

/** What differs from the verdicts `admits` calls for: per use case NamespaceNotAllowed exactly when refused, per setup usedByCount. */
async function mismatches(
  w: Workload,
  setups: TrackedSetup[],
  admits: Map<string, Set<string>>,
  namespaces: string[],
  label: (t: TrackedSetup) => string,
): Promise<string[]> {
  const wrong: string[] = [];
  await Promise.all(
    setups.map(async (t) => {
      const allowed = admits.get(t.name)!;
      const setup: SesSetup | undefined = await w.env.kube.getSetup(t.name);
      const counted = setup?.status?.usedByCount ?? 0;
      if (counted !== allowed.size) wrong.push(`${t.name} counts ${counted} users, want ${allowed.size} (${JSON.stringify(setup?.status?.usedBy ?? [])})`);
      for (const namespace of namespaces) {
        const useCase: EmailUseCase | undefined = await w.env.kube.getUseCase(namespace, label(t));
        const ready = condition(useCase, 'Ready');
        const refused = ready?.reason === 'NamespaceNotAllowed' && ready.status === 'False' && condition(useCase, 'Stalled')?.status === 'True';
        // An admitted use case must not be refused (it may still wait for its setup to be Ready).
        const wantRefused = !allowed.has(namespace);
        if (refused !== wantRefused || !ready)
          wrong.push(
            `${namespace}/${label(t)}: Ready ${ready?.status ?? '-'} ${ready?.reason ?? '-'}, want ${wantRefused ? 'NamespaceNotAllowed' : 'admitted'}`,
          );
      }
    }),
  );
  return wrong;
}

import { VERIFY_ANNOTATION } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import type { Context } from '../context.ts';
import { setupBatch } from '../batch.ts';
import { publishDomains } from '../dns.ts';
import { percentile, percentiles } from '../stats.ts';
import { applyAll, deleteAll } from './common.ts';
import { getChannels, viewerToken } from '../channels-api.ts';

/**
 * Issue 12's figure: GET /v1/{workspace}/channels/ses-setup/{id} with its live refresh, N clients at
 * once (one Ready setup each, a Channel.view ServiceAccount token), p50 and p99, against the floor
 * measured in the same run on the same operator: the verify round trip the facade waits for, done
 * directly (the annotation write, the operator's check, the status echo seen by a watch). Floor and
 * API rounds alternate, so load on the machine falls on both alike.
 */
export async function refreshScenario(ctx: Context): Promise<void> {
  const n = ctx.config.refreshClients;
  const rounds = ctx.config.refreshRounds;
  const items = setupBatch('refresh', n);
  const names = items.map((item) => item.name);
  await publishDomains(
    ctx.stack.dnsServer,
    items.map((item) => item.spec.domainIdentity),
    ctx.stack.region,
  );
  const token = await viewerToken(ctx);
  const dkim = ctx.sim.driveDkim(ctx.config.dkimIntervalMs);
  const flags = [
    ...['--ses-rate-limit', '2000', '--concurrency', String(ctx.config.concurrency ?? Math.min(n, 256))],
    ...['--recheck-fast', `${Math.round(ctx.config.dkimIntervalMs / 2)}ms`, '--recheck-fast-max', `${Math.round(ctx.config.dkimIntervalMs / 2)}ms`],
    ...['--api-bind-address', '127.0.0.1:0'],
  ];
  const operator = await ctx.operator('refresh', flags);
  try {
    const url = String((await operator.waitForLog('starting')).api);
    await applyAll(ctx, items, n);
    await waitUntil(`${n} setups Ready`, () => ctx.tracker.count(ctx.tracker.readyAt, names) === n, { timeoutMs: 180_000, intervalMs: 20 });
    await dkim.stop(); // verified: the checks below ask SES once each and need no DKIM pass
    const uids = names.map((name) => ctx.tracker.informer.get(name)!.metadata.uid!);

    const floorRound = (round: number) =>
      Promise.all(
        names.map(async (name) => {
          const request = `bench-${round}-${name}`;
          const start = Date.now();
          const annotated = ctx.tracker.waitFor(name, (setup) => annotationOf(setup) === request);
          const echoed = ctx.tracker.waitFor(name, (setup) => setup.status?.lastHandledVerifyRequest === request);
          await ctx.kube.annotateSetup(name, { [VERIFY_ANNOTATION]: request });
          const [annotatedAt, echoedAt] = await Promise.all([annotated, echoed]);
          steps.floor.annotation.push(annotatedAt - start);
          steps.floor.check.push(echoedAt - annotatedAt);
          return echoedAt - start;
        }),
      );
    let stale = 0;
    const apiRound = () =>
      Promise.all(
        uids.map(async (uid, i) => {
          const name = names[i]!;
          const before = annotationOf(ctx.tracker.informer.get(name));
          const start = Date.now();
          // When the facade's annotation, then the operator's echo of it, reach a watch (the harness's own).
          const seen = ctx.tracker
            .waitFor(name, (setup) => annotationOf(setup) !== before)
            .then(async (annotatedAt) => {
              const request = annotationOf(ctx.tracker.informer.get(name));
              return [annotatedAt, await ctx.tracker.waitFor(name, (setup) => setup.status?.lastHandledVerifyRequest === request)] as const;
            });
          const response = await getChannels<{ refreshed?: boolean }>(url, token, `/${uid}`);
          const body = response.body;
          const took = Date.now() - start;
          const [annotatedAt, echoedAt] = await seen;
          steps.api.annotation.push(annotatedAt - start);
          steps.api.check.push(echoedAt - annotatedAt);
          steps.api.answer.push(start + took - echoedAt);
          if (response.status !== 200) throw new Error(`GET detail answered ${response.status}: ${JSON.stringify(body)}`);
          if (body.refreshed !== true) stale++;
          return took;
        }),
      );
    const steps = {
      floor: { annotation: [] as number[], check: [] as number[] },
      api: { annotation: [] as number[], check: [] as number[], answer: [] as number[] },
    };
    // One request per client first on each side: TokenReview / SubjectAccessReview caches, JIT, connections.
    await floorRound(-1);
    await apiRound();
    stale = 0;
    for (const list of [...Object.values(steps.floor), ...Object.values(steps.api)]) list.length = 0;
    const floor: number[] = [];
    const api: number[] = [];
    for (let round = 0; round < rounds; round++) {
      floor.push(...(await floorRound(round)));
      api.push(...(await apiRound()));
    }
    const scenario = `REST API refresh (${n} clients at once)`;
    for (const p of [50, 99]) {
      const value = percentile(api, p);
      const ref = percentile(floor, p);
      ctx.add({
        scenario,
        figure: `GET detail with live refresh p${p}`,
        value,
        unit: 'ms',
        reference: { label: 'floor', value: ref },
        ratio: value / ref,
        ...(p === 50 ? { budget: { text: '<= 1.5x floor', met: value / ref <= 1.5, use: value / ref / 1.5 } } : {}),
        ...(p === 99 ? { note: `${api.length} requests over ${rounds} rounds; ${stale} answered without a fresh check` } : {}),
      });
    }
    ctx.add({
      scenario,
      figure: 'answers without a fresh check',
      value: stale,
      unit: '',
      budget: { text: '0', met: stale === 0 },
    });
    const p50 = (lists: Record<string, number[]>) => Object.fromEntries(Object.entries(lists).map(([step, values]) => [step, percentile(values, 50)]));
    // Where the time goes, as a watch sees it: write -> annotation delivered, -> the operator's echo delivered, -> the answer.
    ctx.details.refresh = {
      clients: n,
      rounds,
      operatorFlags: flags,
      apiMs: percentiles(api),
      floorMs: percentiles(floor),
      stale,
      stepsP50Ms: { floor: p50(steps.floor), api: p50(steps.api) },
    };
    ctx.log(`refresh steps p50: ${JSON.stringify({ floor: p50(steps.floor), api: p50(steps.api) })}`);
    await deleteAll(ctx, names, 120_000);
  } finally {
    await dkim.stop();
    await operator.stop();
  }
}

function annotationOf(setup: SesSetup | undefined): string | undefined {
  return setup?.metadata.annotations?.[VERIFY_ANNOTATION];
}

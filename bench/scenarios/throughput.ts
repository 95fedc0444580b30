import type { Context } from '../context.ts';
import { setupBatch } from '../batch.ts';
import { delta } from '../metrics.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { throttled } from '../calls.ts';
import { sum } from '../stats.ts';
import { applyAll, callsPerSetup, countBy, deleteAll } from './common.ts';

/** SES calls a deletion needs by design: read tenant and identity (ownership), disassociate, delete identity, delete tenant. */
const DELETE_CALLS = 5;

/**
 * 3 + 5. N new setups under an SES quota of Q requests/s with the operator's limiter set to Q: time
 * until all have their records, against the bound calls-per-setup x N / Q; then the same N deleted,
 * time until every finalizer is gone against its bound. Not one TooManyRequests may come back.
 */
export async function throughputScenario(ctx: Context): Promise<void> {
  const n = ctx.config.throughputSetups;
  const q = ctx.config.quotaRps;
  const items = setupBatch('tput', n);
  const names = items.map((item) => item.name);
  await ctx.sim.setFaults({ quota: { ratePerSecond: q, burst: q } });
  const operator = await ctx.operator('throughput', [
    '--ses-rate-limit',
    String(q),
    ...(ctx.config.concurrency ? ['--concurrency', String(ctx.config.concurrency)] : []),
  ]);
  try {
    // Creation.
    let seq = await ctx.sim.mark();
    let before = await operator.scrape();
    ctx.log(`throughput: creating ${n} setups under a quota of ${q} SES requests/s`);
    const started = Date.now();
    await applyAll(ctx, items);
    const bound = (3 * n) / q;
    await waitUntil(`${n} setups with records`, () => ctx.tracker.count(ctx.tracker.recordsAt, names) === n, {
      timeoutMs: bound * 10_000 + 120_000,
      intervalMs: 100,
    });
    const took = (Math.max(...names.map((name) => ctx.tracker.recordsAt.get(name)!)) - started) / 1000;
    let after = await operator.scrape();
    let { log } = await ctx.sim.calls(seq);
    const perSetup = callsPerSetup(log, items, (name) => ctx.tracker.recordsCheckedAt.get(name));
    ctx.add({
      scenario: `throughput (${n} new, quota ${q}/s)`,
      figure: 'time until all have records',
      value: took,
      unit: 's',
      reference: { label: `bound 3 x ${n} / ${q} =`, value: bound },
      ratio: took / bound,
      budget: { text: '<= 1.1x bound', met: took / bound <= 1.1, use: took / bound / 1.1 },
    });
    const tooMany = throttled(log);
    ctx.add({
      scenario: `throughput (${n} new, quota ${q}/s)`,
      figure: 'TooManyRequests from SES',
      value: tooMany,
      unit: '',
      budget: { text: '0', met: tooMany === 0 },
    });
    ctx.add({
      scenario: `throughput (${n} new, quota ${q}/s)`,
      figure: 'SES calls per new setup until records',
      value: sum(perSetup) / n,
      unit: '',
      reference: { label: 'minimum', value: 3 },
      ratio: sum(perSetup) / n / 3,
      budget: { text: 'exactly 3', met: perSetup.every((calls) => calls === 3) },
      note: `min ${Math.min(...perSetup)}, max ${Math.max(...perSetup)}`,
    });
    ctx.details.throughput = {
      setups: n,
      quotaRps: q,
      seconds: took,
      boundSeconds: bound,
      sesCalls: countBy(log, (call) => `${call.operation}${call.error ? ` ${call.error}` : ''}`),
      operatorSesCalls: after.by('ses_operator_ses_calls_total', 'outcome'),
      reconciles: delta(before, after, 'controller_runtime_reconcile_total', { controller: 'sessetup' }),
      apiWrites: delta(before, after, 'ses_operator_api_writes_total'),
    };
    ctx.log(`throughput: ${took.toFixed(1)} s against a bound of ${bound.toFixed(1)} s; ${tooMany} TooManyRequests`);

    // Deletion of the same setups, under the same quota.
    seq = await ctx.sim.mark();
    before = after;
    ctx.log(`deletion: deleting ${n} setups`);
    const deleting = Date.now();
    const deleteBound = (DELETE_CALLS * n) / q;
    await deleteAll(ctx, names, deleteBound * 10_000 + 120_000);
    const deleteTook = (Math.max(...names.map((name) => ctx.tracker.goneAt.get(name) ?? Date.now())) - deleting) / 1000;
    after = await operator.scrape();
    ({ log } = await ctx.sim.calls(seq));
    const deleteCalls = callsPerSetup(log, items);
    ctx.add({
      scenario: `deletion (${n}, quota ${q}/s)`,
      figure: 'time until all finalizers are gone',
      value: deleteTook,
      unit: 's',
      reference: { label: `bound ${DELETE_CALLS} x ${n} / ${q} =`, value: deleteBound },
      ratio: deleteTook / deleteBound,
      note: `${(sum(deleteCalls) / n).toFixed(2)} SES calls per deletion; ${throttled(log)} TooManyRequests`,
    });
    ctx.details.deletion = {
      setups: n,
      seconds: deleteTook,
      boundSeconds: deleteBound,
      callsPerDeletion: sum(deleteCalls) / n,
      sesCalls: countBy(log, (call) => `${call.operation}${call.error ? ` ${call.error}` : ''}`),
      apiWrites: delta(before, after, 'ses_operator_api_writes_total'),
    };
    ctx.log(`deletion: ${deleteTook.toFixed(1)} s against a bound of ${deleteBound.toFixed(1)} s`);
  } finally {
    await operator.stop();
    await ctx.sim.setFaults({});
  }
}

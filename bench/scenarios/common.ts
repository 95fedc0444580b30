import type { CallRecord } from '../../harness/simulator/call-log.ts';
import type { Context } from '../context.ts';
import { forEachLimit } from '../pool.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { callsByTarget } from '../calls.ts';
import type { Item } from '../batch.ts';
import type { Scrape } from '../metrics.ts';

/** Creates the setups, `limit` requests in flight, noting each one's apply time just before its request. */
export async function applyAll(ctx: Context, items: Item[], limit = ctx.config.apiConcurrency): Promise<void> {
  await forEachLimit(items, limit, async ({ name, spec }) => {
    ctx.tracker.appliedAt.set(name, Date.now());
    await ctx.kube.createSetup(name, spec);
  });
}

/** Deletes the setups and waits until the API server has dropped them (finalizers gone). */
export async function deleteAll(ctx: Context, names: string[], timeoutMs: number): Promise<void> {
  await forEachLimit(names, ctx.config.apiConcurrency, (name) => ctx.kube.deleteSetup(name));
  await waitUntil(`${names.length} SesSetups to be gone`, () => names.every((name) => !ctx.tracker.informer.get(name)), { timeoutMs, intervalMs: 200 });
}

/**
 * Waits until the operator has sent every Kubernetes Event it recorded. Events trail the work they
 * describe (two at a time): a warm-up batch's Events, still going out, would load the API server
 * during the batch measured after it.
 */
export async function untilEventsSent(operator: { scrape(): Promise<Scrape> }, timeoutMs = 60_000): Promise<void> {
  await waitUntil('the operator to send its Events', async () => (await operator.scrape()).sum('ses_operator_events_pending') === 0, {
    timeoutMs,
    intervalMs: 100,
  });
}

/** SES calls attributed to each setup (those naming its tenant or domain), optionally only those before a per-setup deadline. */
export function callsPerSetup(log: CallRecord[], items: Item[], until?: (name: string) => number | undefined): number[] {
  const targets = new Set(items.flatMap(({ spec }) => [spec.tenantName, spec.domainIdentity]));
  const byTarget = callsByTarget(log, targets);
  return items.map(({ name, spec }) => {
    const deadline = until?.(name) ?? Infinity;
    const calls = [...(byTarget.get(spec.tenantName) ?? []), ...(byTarget.get(spec.domainIdentity) ?? [])];
    return calls.filter((call) => call.at <= deadline).length;
  });
}

export function countBy(log: CallRecord[], key: (call: CallRecord) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const call of log) out[key(call)] = (out[key(call)] ?? 0) + 1;
  return out;
}

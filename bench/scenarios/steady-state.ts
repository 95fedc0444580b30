import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { CallRecord } from '../../harness/simulator/call-log.ts';
import { installDnsEndpointCrd } from '../../harness/stack/external-dns.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { DNS_ENDPOINT, type DnsEndpoint } from '../../src/controllers/sessetup/dns-endpoint.ts';
import { DEFAULT_RECHECK, SES_CALLS_PER_CHECK } from '../../src/controllers/sessetup/recheck-schedule.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { objectPath } from '../../src/runtime/kube-http.ts';
import { IDENTITY_PAGE_SIZE, TENANT_PAGE_SIZE } from '../../src/ses/aws-gateway.ts';
import { setupBatch, type Item } from '../batch.ts';
import { callTarget } from '../calls.ts';
import { getChannels, viewerToken } from '../channels-api.ts';
import type { Context } from '../context.ts';
import { delta, type Scrape } from '../metrics.ts';
import type { BenchOperator } from '../operator.ts';
import { classifySteadyCalls, pagesFor, type SteadyCalls, type SweepsSeen } from '../steady-calls.ts';
import { countBy } from './common.ts';

/** Where the scale scenario's DNSEndpoints go (no external-dns watches it: the records are in BIND already). */
export const SCALE_DNS_NAMESPACE = 'bench-scale';

/** The operator's defaults, which the steady state is measured at. */
const RATE = 1;
const SHARE = DEFAULT_RECHECK.budgetShare;
const SLOW_S = DEFAULT_RECHECK.slowMs / 1000;
/** List pages the harness reads through the REST API during the window (20 setups a page, the API's largest). */
const API_PAGES = 5;
const API_PAGE = 20;

/** The scale scenario's setups: a share of them, spread evenly, publish through ExternalDNS. */
export function scaleBatch(n: number, share: number): Item[] {
  return setupBatch('scale', n).map((item, i) =>
    Math.floor((i + 1) * share) > Math.floor(i * share) ? { ...item, spec: { ...item.spec, dnsPublication: 'ExternalDNS' as const } } : item,
  );
}

/** external-dns's CRD and the namespace the DNSEndpoints go to; the operators that load and measure get it as --dns-endpoint-namespace. */
export async function prepareDnsEndpoints(ctx: Context): Promise<string[]> {
  await installDnsEndpointCrd(ctx.stack.kubeconfig);
  await ctx.kube.ensureNamespace(SCALE_DNS_NAMESPACE);
  return ['--dns-endpoint-namespace', SCALE_DNS_NAMESPACE];
}

/** The measured operator's extra work: DNSEndpoints, an orphan sweep that fires inside the window, the REST API. */
export function steadyFlags(ctx: Context): string[] {
  return [
    ...['--dns-endpoint-namespace', SCALE_DNS_NAMESPACE],
    ...['--orphan-sweep-interval', `${ctx.config.sweepSeconds}s`],
    ...['--api-bind-address', '127.0.0.1:0'],
    // The refresh row measures what a live check costs: at the default 1 SES request/s its 3 calls wait
    // behind due re-checks and sweep pages, which can outlast the default 5 s wait (then the answer is
    // the last result, refreshed: false, and the check's cost lands after it).
    ...['--api-refresh-timeout', '30s'],
  ];
}

/** The harness's own watch on the scale DNSEndpoints: every create, update or delete of one shows up here. */
class DnsEndpointWatch {
  readonly informer: Informer<DnsEndpoint>;
  changes = 0;

  constructor(kc: KubeConfig) {
    this.informer = new Informer<DnsEndpoint>({ kc, path: objectPath(DNS_ENDPOINT, SCALE_DNS_NAMESPACE), name: 'bench-dnsendpoints' });
    const changed = () => this.changes++;
    this.informer.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
    this.changes = 0;
  }
}

export interface SteadyState {
  seconds: number;
  after: Scrape;
  writes: number;
  writesByResource: Record<string, number>;
  watchedSetupChanges: number;
  dnsEndpoints: { held: number; expected: number; changes: number };
  restReads: { requests: number; failed: string[] };
  calls: SteadyCalls;
  callsByOperation: Record<string, number>;
  perHour: number;
  schedule: { recheckIntervalS: number; recheckPerHour: number; sweepPerHour: number };
  sweep: SweepsSeen & { seconds: number[]; held: { tenants: number; identities: number }; intervalS: number };
  refresh?: RefreshCost;
}

/**
 * The steady state of a verified population with everything on that a deployment runs: DNSEndpoints
 * held for a share of the setups, the orphan sweep, the REST API read by clients. From the moment the
 * start-up work is done (or a sweep begun before has ended) for at least --steady-seconds, stretched
 * to the end of a sweep still running then, so the window holds whole sweeps only (the sweep's first call comes one interval after the
 * controllers start, inside the window). Then one REST API GET with its live refresh, counted apart.
 */
export async function measureSteadyState(ctx: Context, operator: BenchOperator, items: Item[], spawnSeq: number): Promise<SteadyState> {
  const n = items.length;
  const windowMs = ctx.config.steadySeconds * 1000;
  const apiUrl = String((await operator.waitForLog('starting')).api);
  const token = await viewerToken(ctx);
  const endpoints = new DnsEndpointWatch(ctx.kube.kc);
  await endpoints.start();
  try {
    const live = new Set(ctx.tracker.informer.list().flatMap((setup) => [setup.spec.tenantName, setup.spec.domainIdentity.toLowerCase()]));
    const held = await heldInSes(ctx);
    await noSweepRunning(ctx, operator, spawnSeq);
    const seq = await ctx.sim.mark();
    const modified = ctx.tracker.modified;
    const before = await operator.scrape();
    const start = Date.now();
    ctx.log(`scale: steady state for ${windowMs / 1000} s at least (orphan sweep every ${ctx.config.sweepSeconds} s, REST API on)`);
    const restReads = await readWithoutRefresh(apiUrl, token);
    await sleep(Math.max(0, start + windowMs - Date.now()));
    const { end, log, sweepLines } = await wholeSweeps(ctx, operator, seq, start, start + windowMs);
    const after = await operator.scrape();
    const watchedSetupChanges = ctx.tracker.modified - modified;
    const endpointChanges = endpoints.changes;
    const seconds = (end - start) / 1000;

    const pagesPerSweep = {
      ListTenants: pagesFor(held.tenants, TENANT_PAGE_SIZE),
      ListEmailIdentities: pagesFor(held.identities, IDENTITY_PAGE_SIZE),
    };
    const sweep = {
      sweeps: sweepLines.length,
      calls: sweepLines.reduce((sum, line) => sum + line.calls, 0),
      pagesPerSweep,
      seconds: sweepDurations(log, sweepLines, start),
      held,
      intervalS: ctx.config.sweepSeconds,
    };
    const calls = classifySteadyCalls(log, live, sweep);
    // Each due re-check of a verified setup reads back its tenant, identity and association (SES_CALLS_PER_CHECK.verified).
    const callsPerCheck = SES_CALLS_PER_CHECK.verified;
    const recheckIntervalS = Math.max(SLOW_S, (n * callsPerCheck) / (RATE * SHARE));
    // The sweeper starts its next sweep one interval after the last one ended.
    const meanSweepS = sweep.seconds.length ? sweep.seconds.reduce((a, b) => a + b, 0) / sweep.seconds.length : 0;
    const sweepNeeds =
      (calls.lists.ListTenants + calls.lists.ListEmailIdentities - calls.why.extraPages + calls.unrecorded - calls.why.unrecordedNotBySweep) /
      Math.max(1, sweep.sweeps);
    const schedule = {
      recheckIntervalS,
      recheckPerHour: (n * callsPerCheck * 3600) / recheckIntervalS,
      sweepPerHour: (sweepNeeds * 3600) / (sweep.intervalS + meanSweepS),
    };
    const expected = items.filter((item) => item.spec.dnsPublication === 'ExternalDNS').length;
    const refresh = await refreshOne(ctx, operator, apiUrl, token, items.find((item) => item.spec.dnsPublication === 'ExternalDNS') ?? items[0]!, endpoints);
    return {
      seconds,
      after,
      writes: delta(before, after, 'ses_operator_api_writes_total'),
      writesByResource: byResource(before, after),
      watchedSetupChanges,
      dnsEndpoints: { held: endpoints.informer.size(), expected, changes: endpointChanges },
      restReads,
      calls,
      callsByOperation: countBy(log, (call) => call.operation),
      perHour: (log.length / seconds) * 3600,
      schedule,
      sweep,
      refresh,
    };
  } finally {
    await endpoints.informer.stop();
  }
}

/** The table rows of the steady state. */
export function steadyRows(ctx: Context, scenario: string, s: SteadyState): void {
  const seconds = Math.round(s.seconds);
  const writesNote = Object.entries(s.writesByResource)
    .map(([resource, count]) => `${count} ${resource}`)
    .join(', ');
  ctx.add({
    scenario,
    figure: `API writes in ${seconds} s of steady state`,
    value: s.writes,
    unit: '',
    budget: { text: '0', met: s.writes === 0 && s.watchedSetupChanges === 0 && s.dnsEndpoints.changes === 0 },
    note: `${s.watchedSetupChanges} SesSetup and ${s.dnsEndpoints.changes} DNSEndpoint changes seen by watches${writesNote ? `; by resource: ${writesNote}` : ''}`,
  });
  ctx.add({
    scenario,
    figure: `DNSEndpoint writes in steady state (${s.dnsEndpoints.held} held)`,
    value: s.dnsEndpoints.changes + (s.writesByResource.dnsendpoints ?? 0),
    unit: '',
    budget: { text: '0', met: s.dnsEndpoints.changes === 0 && !s.writesByResource.dnsendpoints && s.dnsEndpoints.held === s.dnsEndpoints.expected },
    note: `creates, updates and deletes seen by a watch plus the operator's api-writes metric; ${s.dnsEndpoints.expected} setups with dnsPublication ExternalDNS`,
  });
  const { lists, unrecorded, why } = s.calls;
  const sweep = s.sweep;
  const pages = sweep.pagesPerSweep.ListTenants + sweep.pagesPerSweep.ListEmailIdentities;
  const perSweep = sweep.calls / Math.max(1, sweep.sweeps);
  const longest = sweep.seconds.length ? Math.max(...sweep.seconds) : NaN;
  ctx.add({
    scenario,
    figure: 'orphan sweep: SES calls per sweep',
    value: perSweep,
    unit: '',
    reference: { label: 'pages', value: pages },
    ratio: perSweep / pages,
    budget: {
      text: '<= pages + reads of unrecorded resources',
      met: sweep.sweeps > 0 && why.extraPages === 0 && why.sweepReadsOfLive === 0 && why.unrecordedNotBySweep === 0,
    },
    note:
      `${sweep.sweeps} sweep(s) in the window, ${sweep.calls} calls: ListTenants ${lists.ListTenants} + ListEmailIdentities ${lists.ListEmailIdentities} ` +
      `(${sweep.pagesPerSweep.ListTenants} + ${sweep.pagesPerSweep.ListEmailIdentities} a sweep for ${sweep.held.tenants} tenants / ${sweep.held.identities} identities at ${TENANT_PAGE_SIZE} / ${IDENTITY_PAGE_SIZE} a page), ` +
      `${unrecorded} calls about resources no live setup records, ${why.sweepReadsOfLive} reads of live setups' resources; ` +
      `longest sweep ${longest.toFixed(1)} s, --orphan-sweep-interval ${sweep.intervalS} s`,
  });
  const expectedPerHour = s.schedule.recheckPerHour + s.schedule.sweepPerHour;
  ctx.add({
    scenario,
    figure: 'SES calls per hour at the re-check and sweep intervals',
    value: s.perHour,
    unit: '',
    reference: { label: 'schedule', value: expectedPerHour },
    ratio: s.perHour / expectedPerHour,
    note:
      `${Object.values(s.callsByOperation).reduce((a, b) => a + b, 0)} calls in ${seconds} s; re-checks ${s.schedule.recheckPerHour.toFixed(0)}/h ` +
      `(interval ${(s.schedule.recheckIntervalS / 3600).toFixed(2)} h = max(${SLOW_S / 3600} h, N x ${SES_CALLS_PER_CHECK.verified} / (${RATE}/s x ${SHARE}))) ` +
      `+ sweeps ${s.schedule.sweepPerHour.toFixed(0)}/h (its calls once per interval + its own duration; ${pages}/h at the default 1 h)`,
  });
  const other = Object.entries(why.otherOperations).map(([op, count]) => `${count} ${op}`);
  ctx.add({
    scenario,
    figure: 'unnecessary SES calls in steady state',
    value: s.calls.unnecessary,
    unit: '',
    budget: { text: '0', met: s.calls.unnecessary === 0 },
    note:
      `${s.calls.readBacks} re-check reads (one per resource), sweep as above; ${why.secondReads} second reads of a resource, ` +
      `${why.sweepReadsOfLive} sweep reads of live resources, ${why.extraPages} extra pages${other.length ? `, ${other.join(', ')}` : ''}`,
  });
  ctx.add({
    scenario,
    figure: `REST API: ${s.restReads.requests} list GETs (no refresh) in the window`,
    value: s.restReads.failed.length,
    unit: 'failed',
    budget: { text: '0 failed; 0 writes and 0 unnecessary SES calls above', met: s.restReads.failed.length === 0 },
    note: s.restReads.failed.length ? s.restReads.failed.join('; ') : `${API_PAGE} setups a page, a ServiceAccount token with Channel.view`,
  });
  const r = s.refresh;
  if (r) {
    ctx.add({
      scenario,
      figure: 'REST API: one GET with live refresh, SES calls',
      value: r.calls,
      unit: '',
      budget: { text: `exactly ${SES_CALLS_PER_CHECK.verified}`, met: r.calls === SES_CALLS_PER_CHECK.verified && r.refreshed && r.dnsEndpointChanges === 0 },
      note:
        `${r.setup}: ${Object.entries(r.byOperation)
          .map(([op, count]) => `${count} ${op}`)
          .join(', ')}; refreshed ${r.refreshed} in ${r.ms} ms; ` +
        `${r.setupChanges} SesSetup changes seen by a watch (the API's verify annotation, the operator's status), ${r.operatorWrites} operator writes (${r.writesNote}), ${r.dnsEndpointChanges} DNSEndpoint writes`,
    });
  }
}

/** Tenants and identities SES holds in the operator's region: what one sweep pages through. */
async function heldInSes(ctx: Context): Promise<{ tenants: number; identities: number }> {
  const state = await ctx.sim.state();
  const region = state.regions[ctx.stack.region];
  return { tenants: region?.tenants.length ?? 0, identities: region?.identities.length ?? 0 };
}

/** A few list pages through the REST API, as a product UI reads it: from the operator's cache. */
async function readWithoutRefresh(apiUrl: string, token: string): Promise<{ requests: number; failed: string[] }> {
  const failed: string[] = [];
  for (let page = 0; page < API_PAGES; page++) {
    const { status, body } = await getChannels<{ items?: unknown[] }>(apiUrl, token, `?limit=${API_PAGE}&continuation_token=${page * API_PAGE}`);
    if (status !== 200 || !Array.isArray(body.items)) failed.push(`page ${page}: ${status} ${JSON.stringify(body).slice(0, 200)}`);
  }
  return { requests: API_PAGES, failed };
}

interface SweepLine {
  at: number;
  calls: number;
}

/**
 * The window's end: its planned end, or later, once at least one sweep began and ended inside it
 * and none is running (a list call after the last "orphan sweep done" line), so the window holds
 * whole sweeps only and at least one. The calls are those that arrived by then; the sweeps, those
 * that ended inside.
 */
async function wholeSweeps(
  ctx: Context,
  operator: BenchOperator,
  seq: number,
  start: number,
  plannedEnd: number,
): Promise<{ end: number; log: CallRecord[]; sweepLines: SweepLine[] }> {
  let log: CallRecord[] = [];
  let lines: SweepLine[] = [];
  const settled = async () => {
    lines = await sweepsDone(operator, start);
    log = (await ctx.sim.calls(seq)).log;
    const lastList = log.findLast((call) => call.operation === 'ListTenants' || call.operation === 'ListEmailIdentities');
    return lines.length > 0 && (!lastList || lastList.at <= lines.at(-1)!.at);
  };
  if (!(await settled())) {
    ctx.log('scale: waiting for the orphan sweep of the steady window to end');
    await waitUntil('a whole orphan sweep in the steady window', settled, { timeoutMs: (ctx.config.sweepSeconds + 1_800) * 1000, intervalMs: 250 });
  }
  const end = Math.max(plannedEnd, lines.at(-1)!.at);
  return { end, log: log.filter((call) => call.at <= end), sweepLines: lines.filter((line) => line.at <= end) };
}

/** A sweep that began before the window (an interval shorter than the start-up): the window starts once it is done. */
async function noSweepRunning(ctx: Context, operator: BenchOperator, spawnSeq: number): Promise<void> {
  const lastList = (await ctx.sim.calls(spawnSeq)).log.findLast((call) => call.operation === 'ListTenants' || call.operation === 'ListEmailIdentities');
  if (!lastList) return;
  ctx.log('scale: an orphan sweep began before the steady window; waiting for its end');
  await waitUntil('the orphan sweep begun at start-up to end', async () => ((await sweepsDone(operator, 0)).at(-1)?.at ?? 0) >= lastList.at, {
    timeoutMs: 1_800_000,
    intervalMs: 250,
  });
}

async function sweepsDone(operator: BenchOperator, after: number): Promise<SweepLine[]> {
  return (await operator.logs())
    .filter((line) => line.msg === 'orphan sweep done')
    .map((line) => ({ at: Date.parse(String(line.time)), calls: Number(line.sesCalls) }))
    .filter((line) => line.at > after);
}

/** Each sweep's duration: from its first list call (the first after the previous sweep ended) to its "done" line. */
function sweepDurations(log: readonly CallRecord[], lines: readonly SweepLine[], start: number): number[] {
  const seconds: number[] = [];
  let from = start;
  for (const line of lines) {
    const first = log.find((call) => call.at > from && call.at <= line.at && call.operation === 'ListTenants');
    if (first) seconds.push((line.at - first.at) / 1000);
    from = line.at;
  }
  return seconds;
}

function byResource(before: Scrape, after: Scrape): Record<string, number> {
  const was = before.by('ses_operator_api_writes_total', 'resource');
  const out: Record<string, number> = {};
  for (const [resource, count] of Object.entries(after.by('ses_operator_api_writes_total', 'resource'))) {
    if (count - (was[resource] ?? 0) > 0) out[resource] = count - (was[resource] ?? 0);
  }
  return out;
}

export interface RefreshCost {
  setup: string;
  refreshed: boolean;
  ms: number;
  /** SES calls about the setup's own tenant and identity while the refresh ran. */
  calls: number;
  byOperation: Record<string, number>;
  setupChanges: number;
  operatorWrites: number;
  writesNote: string;
  dnsEndpointChanges: number;
}

/** GET detail (live refresh) of one setup: what it costs in SES calls and writes, counted on that setup alone. */
async function refreshOne(ctx: Context, operator: BenchOperator, apiUrl: string, token: string, item: Item, endpoints: DnsEndpointWatch): Promise<RefreshCost> {
  const uid = ctx.tracker.informer.get(item.name)?.metadata.uid;
  if (!uid) throw new Error(`${item.name} is not in the harness's cache`);
  const seq = await ctx.sim.mark();
  const before = await operator.scrape();
  let setupChanges = 0;
  const endpointChanges = endpoints.changes;
  const counting = ctx.tracker.informer.addEventHandler({ onUpdate: (setup) => void (setup.metadata.name === item.name && setupChanges++) });
  const started = Date.now();
  try {
    const { status, body } = await getChannels<{ refreshed?: boolean }>(apiUrl, token, `/${uid}`);
    if (status !== 200) throw new Error(`GET detail answered ${status}: ${JSON.stringify(body)}`);
    const ms = Date.now() - started;
    // The status write's watch event may trail the answer a little.
    await sleep(1_000);
    const after = await operator.scrape();
    const own = new Set([item.spec.tenantName, item.spec.domainIdentity.toLowerCase()]);
    const calls = (await ctx.sim.calls(seq)).log.filter((call) => own.has(callTarget(call)?.toLowerCase() ?? ''));
    const writes = byResource(before, after);
    return {
      setup: item.name,
      refreshed: body.refreshed === true,
      ms,
      calls: calls.length,
      byOperation: countBy(calls, (call) => call.operation),
      setupChanges,
      operatorWrites: delta(before, after, 'ses_operator_api_writes_total'),
      writesNote: Object.entries(writes)
        .map(([resource, count]) => `${count} ${resource}`)
        .join(', '),
      dnsEndpointChanges: endpoints.changes - endpointChanges,
    };
  } finally {
    counting();
  }
}

import { parseArgs } from 'node:util';

/** Sizes and knobs of one benchmark run; `--small` shrinks every scenario so CI can run it in a few minutes. */
export interface BenchConfig {
  small: boolean;
  json: string | undefined;
  /** Scenarios to run (default: all, in order). */
  only: ScenarioName[];
  latencySetups: number;
  /** Rounds of the latency scenario (floor + operator each), pooled. */
  latencyRounds: number;
  throughputSetups: number;
  scaleSetups: number;
  /** Setups applied at once with dnsPublication ExternalDNS (publication scenario). */
  publicationSetups: number;
  publicationRounds: number;
  /** Concurrent REST API clients, one setup each, and their rounds (refresh scenario). */
  refreshClients: number;
  refreshRounds: number;
  /** SES quota (requests/s) of the throughput and deletion scenarios; the operator's limiter matches it. */
  quotaRps: number;
  /** Steady-state window of the scale scenario (5 minutes by default, shortened with --steady-seconds). */
  steadySeconds: number;
  /** Share of the scale scenario's setups with dnsPublication ExternalDNS (their DNSEndpoints must stay untouched at rest). */
  scaleExternalDnsShare: number;
  /** --orphan-sweep-interval of the scale scenario's measured operator, in seconds (default: the steady window, so one sweep falls in it). */
  sweepSeconds: number;
  /** How often the simulated SES re-checks pending DKIM in the latency and scale scenarios. */
  dkimIntervalMs: number;
  /** In-flight API calls when the harness creates or deletes objects. */
  apiConcurrency: number;
  /** Where operator logs (and profiles) go. */
  outDir: string;
  /** Run the operators with --cpu-prof and take a heap snapshot of the scale operator after sync. */
  profile: boolean;
  /**
   * Run the operator as the image and the Deployment start it: the image's node flags and environment
   * and the Deployment's V8 heap flags (NODE_OPTIONS, sized for the 256 MiB memory limit); false:
   * V8's own sizing for this whole machine, with a young generation far larger than the pod's
   * (bench/RESULTS.md).
   */
  podHeap: boolean;
  /** --concurrency of the operator in the latency (default: 35, or setups at once if fewer) and throughput (default: the operator's) scenarios. */
  concurrency: number | undefined;
  /** A prebuilt operator entry point (e.g. an older build, for before/after figures) instead of building this tree. */
  operatorMain: string | undefined;
  /** The regression guard: exit 3 when a figure uses more than this many times its budget, or a count budget is missed. */
  guard: number | undefined;
}

/** In the order they run. Scale last: it leaves its 10,000 setups behind, which any later scenario's operator would reconcile too. */
export const SCENARIOS = ['latency', 'throughput', 'publication', 'refresh', 'scale'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const USAGE = `Usage: npm run bench -- [--small] [--json FILE] [--steady-seconds N] [--quota RPS]
                       [--only latency,throughput,publication,refresh,scale] [--latency N] [--latency-rounds N] [--throughput N] [--scale N]
                       [--publication N] [--publication-rounds N] [--refresh-clients N] [--refresh-rounds N]
                       [--scale-external-dns SHARE] [--sweep-interval N] [--dkim-interval-ms N] [--out DIR] [--profile] [--operator-main FILE] [--concurrency N] [--unconstrained-heap]
                       [--guard FACTOR]

Runs the operator (a real child process) against the local stack and prints a table of figures, each
next to the reference measured in the same run. Exit code 1 when the harness itself fails; a
missed budget is reported in the table, not in the exit code, unless --guard is given.

  --small             CI size: 20 / 100 / 300 setups, 20 s steady state, 10 through external-dns x 2 rounds,
                      50 API clients x 2 rounds (a few minutes on 2 cores)
  --json FILE         also write the figures as JSON
  --steady-seconds N  steady-state window of the scale scenario (default 300; --small: 20)
  --scale-external-dns SHARE  share of the scale setups with dnsPublication ExternalDNS (default 0.1: one in ten)
  --sweep-interval N  the scale operator's --orphan-sweep-interval in seconds (default: the steady window, so
                      exactly one sweep falls in it; the window is stretched to that sweep's end)
  --quota RPS         SES quota of the throughput and deletion scenarios (default 50)
  --only LIST         run only these scenarios, in the order above (deletion runs with throughput)
  --latency/--throughput/--scale N   override a scenario's number of setups
  --publication N     setups applied at once through the real external-dns (default 100; --small: 10)
  --publication-rounds N  rounds of the publication scenario, pooled (default 3; --small: 2)
  --refresh-clients N REST API clients asking for a live refresh at once (default 50, --small too)
  --refresh-rounds N  requests per client, each side (default 10; --small: 2)
  --latency-rounds N  rounds of the latency scenario, pooled (default 3; --small: 4, so the CI guard is not noise)
  --out DIR           operator logs and profiles (default bench-results/<time>)
  --profile           operators run with --cpu-prof; heap snapshot of the scale operator after sync
  --unconstrained-heap  V8's own heap sizing for this machine instead of the image's node flags and environment
                      and the Deployment's NODE_OPTIONS
  --concurrency N     the operator's --concurrency in the latency scenario (default: 35, or setups at once if fewer) and the
                      throughput scenario (default: the operator's own, 4)
  --operator-main F   run this prebuilt operator entry point (e.g. an older build) instead of building src/
  --guard FACTOR      exit 3 when any figure uses more than FACTOR times its budget (a ratio or bound) or a
                      count budget ("0", "exactly 3") is missed: the CI run uses 2
`;

export function parseConfig(argv: string[]): BenchConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      small: { type: 'boolean', default: false },
      json: { type: 'string' },
      only: { type: 'string' },
      latency: { type: 'string' },
      'latency-rounds': { type: 'string' },
      throughput: { type: 'string' },
      scale: { type: 'string' },
      publication: { type: 'string' },
      'publication-rounds': { type: 'string' },
      'refresh-clients': { type: 'string' },
      'refresh-rounds': { type: 'string' },
      quota: { type: 'string' },
      'steady-seconds': { type: 'string' },
      'scale-external-dns': { type: 'string' },
      'sweep-interval': { type: 'string' },
      'dkim-interval-ms': { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'operator-main': { type: 'string' },
      concurrency: { type: 'string' },
      'unconstrained-heap': { type: 'boolean', default: false },
      guard: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const small = values.small;
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...SCENARIOS];
  for (const name of only)
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario "${name}" (${SCENARIOS.join(', ')})`);
  const steadySeconds = whole('--steady-seconds', values['steady-seconds'], small ? 20 : 300);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    small,
    json: values.json,
    only: only as ScenarioName[],
    latencySetups: whole('--latency', values.latency, small ? 20 : 100),
    latencyRounds: whole('--latency-rounds', values['latency-rounds'], small ? 4 : 3),
    throughputSetups: whole('--throughput', values.throughput, small ? 100 : 1_000),
    scaleSetups: whole('--scale', values.scale, small ? 300 : 10_000),
    publicationSetups: whole('--publication', values.publication, small ? 10 : 100),
    publicationRounds: whole('--publication-rounds', values['publication-rounds'], small ? 2 : 3),
    refreshClients: whole('--refresh-clients', values['refresh-clients'], 50),
    refreshRounds: whole('--refresh-rounds', values['refresh-rounds'], small ? 2 : 10),
    quotaRps: whole('--quota', values.quota, 50),
    steadySeconds,
    scaleExternalDnsShare: share('--scale-external-dns', values['scale-external-dns'], 0.1),
    sweepSeconds: whole('--sweep-interval', values['sweep-interval'], steadySeconds),
    dkimIntervalMs: whole('--dkim-interval-ms', values['dkim-interval-ms'], 200),
    apiConcurrency: 32,
    outDir: values.out ?? `bench-results/${stamp}`,
    profile: values.profile,
    operatorMain: values['operator-main'],
    podHeap: !values['unconstrained-heap'],
    concurrency: values.concurrency === undefined ? undefined : whole('--concurrency', values.concurrency, 4),
    guard: values.guard === undefined ? undefined : factor('--guard', values.guard),
  };
}

function whole(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a whole number >= 1, got "${text}"`);
  return value;
}

function share(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${flag} must be a number from 0 to 1, got "${text}"`);
  return value;
}

function factor(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 1) throw new Error(`${flag} must be a number >= 1, got "${text}"`);
  return value;
}

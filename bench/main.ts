// `npm run bench`: the operator against the real local stack, each figure next to the reference
// measured in the same run. See bench/RESULTS.md for the latest full-size table.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { startLocalStack, type LocalStack } from '../harness/stack/stack.ts';
import { buildOperator } from './build.ts';
import { parseConfig, SCENARIOS, USAGE, type BenchConfig } from './config.ts';
import { AS_DEPLOYED, Context } from './context.ts';
import { KubeClient } from '../harness/stack/kube-client.ts';
import { guardFailures, machine, table, writeJson } from './report.ts';
import { latencyScenario } from './scenarios/latency.ts';
import { publicationScenario } from './scenarios/publication.ts';
import { refreshScenario } from './scenarios/refresh.ts';
import { scaleScenario } from './scenarios/scale.ts';
import { throughputScenario } from './scenarios/throughput.ts';
import { SimClient } from '../harness/stack/sim-client.ts';
import { SetupTracker } from './tracker.ts';

const SCENARIO_RUNNERS = {
  latency: latencyScenario,
  throughput: throughputScenario,
  scale: scaleScenario,
  publication: publicationScenario,
  refresh: refreshScenario,
} as const;

async function main(): Promise<number> {
  let parsed: BenchConfig | 'help';
  try {
    parsed = parseConfig(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = { ...parsed, outDir: resolve(parsed.outDir) };
  await mkdir(config.outDir, { recursive: true });
  const started = Date.now();
  const total = config.latencySetups * 2 + config.throughputSetups + config.scaleSetups + config.publicationSetups * 2 + config.refreshClients;
  let stack: LocalStack | undefined;
  let ctx: Context | undefined;
  let failure: unknown;
  let build: Awaited<ReturnType<typeof buildOperator>> | undefined;
  try {
    const interrupted = () => void abort(ctx, stack, build);
    process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
    build = config.operatorMain ? { main: resolve(config.operatorMain), remove: async () => {} } : await buildOperator();
    stack = await startLocalStack({
      // The harness drives DKIM passes itself where a scenario needs them (SimClient.driveDkim).
      dkimCheckIntervalMs: 3_600_000,
      maxTenants: Math.max(10_000, 2 * total),
      maxIdentities: Math.max(10_000, 2 * total),
      log: (line) => process.stderr.write(`[stack] ${line}\n`),
    });
    const kube = new KubeClient(stack.kubeconfig);
    await kube.installCrds();
    const tracker = new SetupTracker(kube.kc);
    await tracker.start();
    ctx = new Context({ config, stack, kube, sim: new SimClient(stack.sesEndpoint), tracker, operatorMain: build.main });
    ctx.log(`output in ${config.outDir}`);
    for (const name of SCENARIOS) if (config.only.includes(name)) await SCENARIO_RUNNERS[name](ctx);
    await tracker.stop();
  } catch (error) {
    failure = error;
    const cause = error instanceof Error && error.cause ? `\ncaused by: ${String((error.cause as Error).stack ?? error.cause)}` : '';
    process.stderr.write(`\nbench: harness failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}${cause}\n`);
  } finally {
    await stack?.stop();
    await build?.remove();
  }

  const rows = ctx?.rows ?? [];
  const guard = config.guard === undefined ? undefined : { factor: config.guard, failures: guardFailures(rows, config.guard) };
  const report = {
    machine: machine(),
    size: config.small ? 'small' : 'full',
    config,
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    failed: failure !== undefined,
    guard,
    rows,
    details: ctx?.details ?? {},
  };
  const m = report.machine;
  process.stdout.write(
    `\nses-operator benchmark (${report.size}), ${report.durationSeconds} s, on ${m.cpus} x ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, load average ${m.loadAverage.join(' ')}\n` +
      `operator: ${config.podHeap ? asDeployed() : 'node dist/cli/main.js (V8 heap sized for this machine)'}\n\n${table(rows)}\n`,
  );
  const missed = rows.filter((row) => row.budget && !row.budget.met).length;
  process.stdout.write(`\n${rows.filter((row) => row.budget).length - missed} budgets met, ${missed} missed${failure ? '; the harness FAILED' : ''}\n`);
  if (guard) {
    process.stdout.write(
      guard.failures.length === 0
        ? `regression guard: every figure within ${guard.factor}x its budget, every count budget met\n`
        : `regression guard FAILED (more than ${guard.factor}x a budget, or a count budget missed):\n${guard.failures.map((line) => `  - ${line}\n`).join('')}`,
    );
  }
  if (config.json) await writeJson(config.json, report);
  // A missed budget is a finding, not a failure (unless --guard): only a broken harness fails the run.
  if (failure) return 1;
  return guard && guard.failures.length > 0 ? 3 : 0;
}

/** Ctrl-C: stop the operators and the stack (their processes would outlive the harness), then leave. */
async function abort(ctx: Context | undefined, stack: LocalStack | undefined, build: { remove(): Promise<void> } | undefined): Promise<void> {
  process.stderr.write('\nbench: interrupted; stopping the operators and the local stack\n');
  await Promise.all([...(ctx?.running ?? [])].map((operator) => operator.stop()));
  await stack?.stop();
  await build?.remove();
  process.exit(130);
}

process.exit(await main());

/** The operator's command line as the image and the Deployment make it. */
function asDeployed(): string {
  const env = Object.entries(AS_DEPLOYED.env).map(([key, value]) => `${key}=${value}`);
  return `${[...env, 'node', ...AS_DEPLOYED.nodeArgs, 'dist/cli/main.js'].join(' ')} (deploy/Dockerfile's ENTRYPOINT and ENV, the NODE_OPTIONS of deploy/kustomize/base/deployment.yaml)`;
}

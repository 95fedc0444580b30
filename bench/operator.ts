import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLocalOperator, type RunningOperator } from '../harness/stack/local-operator.ts';
import type { LocalStack } from '../harness/stack/stack.ts';
import { scrape, type Scrape } from './metrics.ts';

export interface BenchOperator extends RunningOperator {
  scrape(): Promise<Scrape>;
  /** Epoch ms of the first log line with this message, once it has been written. */
  loggedAt(message: string): Promise<number | undefined>;
  ready(): Promise<boolean>;
}

export interface OperatorOptions {
  name: string;
  /** The operator's entry point: the compiled dist/cli/main.js (as deployed) or src/cli/main.ts. */
  main: string;
  /** Flags after the defaults (later ones win in node's parseArgs). */
  args?: string[];
  /** Node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Added to the environment (the image's, e.g. malloc settings). */
  env?: Record<string, string>;
  outDir: string;
  /** Wait for the "running" line (controllers started) instead of only "starting". */
  waitForRunning?: boolean;
}

/** `ses-operator run` as a real child process, as a Deployment would run it, with the figures the benchmark reads. */
export async function startBenchOperator(stack: LocalStack, options: OperatorOptions): Promise<BenchOperator> {
  const logFile = join(options.outDir, `operator-${options.name}.log`);
  await writeFile(logFile, ''); // a rerun into the same folder must not find the last run's lines
  const local = await startLocalOperator({
    stack,
    main: options.main,
    logFile,
    args: options.args,
    nodeArgs: options.nodeArgs,
    env: options.env,
    cwd: options.outDir,
    name: `ses-operator (${options.name})`,
  });
  if (options.waitForRunning !== false) await local.waitForLog('running', 600_000);
  return {
    ...local,
    scrape: () => scrape(local.metricsUrl),
    async loggedAt(message) {
      const line = await local.findLog(message);
      return line ? Date.parse(String(line.time)) : undefined;
    },
    async ready() {
      return (await fetch(`${local.probesUrl}/readyz`).catch(() => undefined))?.status === 200;
    },
    stop: () => local.process.stop(30_000),
  };
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from './go-binaries.ts';
import { FirstLogLines, parseJsonLines, type LogLine } from './operator-log.ts';
import { startProcess, type ManagedProcess } from './processes.ts';
import type { StackEndpoints } from './stack.ts';
import { waitUntil } from './wait.ts';

/** `ses-operator run` as a real child process against the local stack, as tests, the fault suite, the demo and benchmarks run it. */
export interface LocalOperator {
  readonly name: string;
  readonly process: ManagedProcess;
  readonly logFile: string;
  /** Epoch ms just before the process was spawned. */
  readonly spawnedAt: number;
  /** From the "starting" log line, once a wait has seen it (startLocalOperator waits for it). */
  metricsUrl?: string;
  probesUrl?: string;
  /** Exit code or signal, once the process has exited (kill, crash, lease loss). */
  exitCode?: number | string;
  alive(): boolean;
  /** Every JSON log line written so far. */
  logs(): Promise<LogLine[]>;
  /** The first log line with this message, waiting for it; fails early if the process exits. */
  waitForLog(message: string, timeoutMs?: number): Promise<LogLine>;
  /** The first log line with this message so far, if any (reads only what was appended since the last call). */
  findLog(message: string): Promise<LogLine | undefined>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** An operator that has logged "starting": its metrics and probes addresses are known. */
export interface RunningOperator extends LocalOperator {
  readonly metricsUrl: string;
  readonly probesUrl: string;
}

export interface LocalOperatorOptions {
  stack: StackEndpoints;
  /** The entry point: src/cli/main.ts by default, or a compiled dist/cli/main.js (as deployed). */
  main?: string;
  logFile: string;
  /** Flags after the defaults (later ones win). */
  args?: string[];
  /** Node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Added to this process's environment and FAKE_AWS_ENV. */
  env?: Record<string, string>;
  cwd?: string;
  name?: string;
}

/**
 * Fake AWS credentials every local operator runs with: the simulator ignores signatures, and the
 * security checks fail if any of these values shows up in a log line, an Event or a status.
 */
export const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAFAKELOCALSTACK42',
  AWS_SECRET_ACCESS_KEY: 'local/stack/secret/never-logged-42',
  AWS_SESSION_TOKEN: 'local-stack-session-token-never-logged-42',
};

/** What tests run the operator with: a generous SES rate, re-checks every second or two, debug logs. */
export const TEST_TUNING_FLAGS = ['--ses-rate-limit', '20', '--recheck-fast', '1s', '--recheck-fast-max', '2s', '--log-level', 'debug'];

/** Leader election on a Lease of its own with short timings (4 s lease), so tests see take-overs within seconds. */
export function fastLeaderElectionFlags(namespace: string, leaseName: string): string[] {
  return [
    ...['--leader-elect', '--leader-election-namespace', namespace, '--leader-election-id', leaseName],
    ...['--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '500ms'],
  ];
}

/** The flags that point the operator at the local stack; metrics and probes on ephemeral ports so several can run. */
function localOperatorArgs(stack: StackEndpoints, extra: string[] = [], main = join(PROJECT_ROOT, 'src/cli/main.ts')): string[] {
  return [
    main,
    'run',
    ...['--kubeconfig', stack.kubeconfig, '--region', stack.region, '--ses-endpoint', stack.sesEndpoint, '--dns-servers', stack.dnsServer],
    ...['--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0'],
    ...extra,
  ];
}

/** Spawns the operator and returns at once (crash tests kill it during start-up too). */
export function launchLocalOperator(options: LocalOperatorOptions): LocalOperator {
  const name = options.name ?? 'ses-operator';
  const spawnedAt = Date.now();
  const child = startProcess(name, process.execPath, [...(options.nodeArgs ?? []), ...localOperatorArgs(options.stack, options.args, options.main)], {
    logFile: options.logFile,
    cwd: options.cwd,
    env: { ...process.env, ...FAKE_AWS_ENV, ...options.env },
  });
  const firstLines = new FirstLogLines(options.logFile);
  const operator: LocalOperator = {
    name,
    process: child,
    logFile: options.logFile,
    spawnedAt,
    alive: () => operator.exitCode === undefined,
    logs: async () => parseJsonLines(await readFile(options.logFile, 'utf8').catch(() => '')),
    findLog: (message) => firstLines.find(message),
    async waitForLog(message, timeoutMs = 30_000) {
      const line = await waitUntil(`${name} to log "${message}"`, () => firstLines.find(message), { timeoutMs, process: child });
      const starting = await firstLines.find('starting');
      if (starting?.metrics) operator.metricsUrl = String(starting.metrics);
      if (starting?.probes) operator.probesUrl = String(starting.probes);
      return line;
    },
    stop: () => child.stop(15_000),
    kill: () => child.kill(),
  };
  void child.exited.then((code) => (operator.exitCode = code));
  return operator;
}

/** Starts the operator and waits for its "starting" line, which carries its metrics and probes URLs. */
export async function startLocalOperator(options: LocalOperatorOptions): Promise<RunningOperator> {
  const operator = launchLocalOperator(options);
  try {
    await operator.waitForLog('starting');
  } catch (error) {
    await operator.kill();
    throw error;
  }
  const { metricsUrl, probesUrl } = operator;
  if (!metricsUrl || !probesUrl) throw new Error(`${operator.name} logged "starting" without its metrics and probes addresses`);
  return Object.assign(operator, { metricsUrl, probesUrl });
}

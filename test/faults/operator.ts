import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { localOperatorArgs, TEST_TUNING_FLAGS } from '../../harness/stack/local-operator.ts';
import { startProcess, type ManagedProcess } from '../../harness/stack/processes.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import type { FaultEnv } from './env.ts';

/**
 * Fake AWS credentials set in every operator's environment: the simulator ignores signatures, and
 * the security check fails if either value shows up in a log line, an Event or a status.
 */
export const FAULT_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAFAULTSUITE000042',
  AWS_SECRET_ACCESS_KEY: 'faults/suite/secret/never-logged-42',
  AWS_SESSION_TOKEN: 'faults-suite-session-token-never-logged-42',
};

export interface LogLine {
  time?: string;
  level?: string;
  msg?: string;
  sessetup?: string;
  [field: string]: unknown;
}

export interface FaultOperator {
  /** "op1", "op2", ...: one per process, so a restarted operator is a new instance. */
  readonly label: string;
  readonly process: ManagedProcess;
  readonly logFile: string;
  readonly startedAt: number;
  /** Set once the process has exited (kill, crash, lease loss). */
  exitedAt?: number;
  exitCode?: number | string;
  /** Set once the operator logged "running". */
  runningAt?: number;
  metricsUrl?: string;
  probesUrl?: string;
  logs(): Promise<LogLine[]>;
  /** Resolves once the operator logged `msg` (default "running"); fails early if it exits. */
  ready(msg?: string, timeoutMs?: number): Promise<void>;
  alive(): boolean;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface OperatorSpec {
  env: FaultEnv;
  /** Extra flags (they come last, so they win over the defaults below). */
  args?: string[];
  /** SES endpoint override (a tap in front of the simulator). */
  sesEndpoint?: string;
  /** DNS servers override (a fault proxy in front of BIND). */
  dnsServers?: string;
}

let instances = 0;

/** Starts `ses-operator run` as a child process; does not wait (crash tests kill during start-up too). */
export function launchOperator(spec: OperatorSpec): FaultOperator {
  const label = `op${++instances}`;
  const endpoints = { ...spec.env, sesEndpoint: spec.sesEndpoint ?? spec.env.sesEndpoint, dnsServer: spec.dnsServers ?? spec.env.dnsServer };
  const args = localOperatorArgs(endpoints, [...TEST_TUNING_FLAGS, '--dns-timeout', '1s', ...(spec.args ?? [])]);
  const logFile = join(spec.env.workDir, `faults-${process.pid}-${Date.now()}-${label}.log`);
  const child = startProcess(`ses-operator ${label}`, process.execPath, args, {
    logFile,
    env: { ...process.env, ...FAULT_AWS_ENV },
  });
  const logs = async () => parseJsonLines(await readFile(logFile, 'utf8').catch(() => ''));
  const operator: FaultOperator = {
    label,
    process: child,
    logFile,
    startedAt: Date.now(),
    logs,
    async ready(msg = 'running', timeoutMs = 30_000) {
      const needle = `"msg":${JSON.stringify(msg)}`;
      await waitUntil(`${label} to log "${msg}"`, async () => ((await readFile(logFile, 'utf8').catch(() => '')).includes(needle) ? true : undefined), {
        timeoutMs,
        intervalMs: 50,
        process: child,
      });
      if (msg === 'running') operator.runningAt ??= Date.now();
      const starting = (await logs()).find((line) => line.msg === 'starting');
      if (starting?.metrics) operator.metricsUrl = String(starting.metrics);
      if (starting?.probes) operator.probesUrl = String(starting.probes);
    },
    alive: () => operator.exitedAt === undefined,
    kill: () => child.kill(),
    stop: () => child.stop(15_000),
  };
  void child.exited.then((code) => {
    operator.exitedAt = Date.now();
    operator.exitCode = code;
  });
  return operator;
}

/** Starts an operator and waits until it is running. */
export async function startOperator(spec: OperatorSpec, waitFor = 'running'): Promise<FaultOperator> {
  const operator = launchOperator(spec);
  try {
    await operator.ready(waitFor);
  } catch (error) {
    await operator.kill();
    throw error;
  }
  return operator;
}

export function parseJsonLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // the last line may be half written (or cut by SIGKILL)
    }
  }
  return lines;
}

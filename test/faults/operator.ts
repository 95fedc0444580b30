import { join } from 'node:path';
import { launchLocalOperator, TEST_TUNING_FLAGS, type LocalOperator } from '../../harness/stack/local-operator.ts';
import type { FaultEnv } from './env.ts';

export interface FaultOperator extends LocalOperator {
  /** "op1", "op2", ...: one per process, so a restarted operator is a new instance. */
  readonly label: string;
  /** Set once the operator logged "running". */
  runningAt?: number;
  /** Resolves once the operator logged `msg` (default "running"); fails early if it exits. */
  ready(msg?: string, timeoutMs?: number): Promise<void>;
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

/** A sweep every 2 s, an orphan deleted at the first sweep at least 1 s after it was first seen. */
export const FAST_SWEEP_FLAGS = ['--orphan-sweep-interval', '2s', '--orphan-sweep-grace', '1s'];

let instances = 0;

/** Starts `ses-operator run` as a child process; does not wait (crash tests kill during start-up too). */
export function launchOperator(spec: OperatorSpec): FaultOperator {
  const label = `op${++instances}`;
  const { env } = spec;
  const operator = launchLocalOperator({
    name: `ses-operator ${label}`,
    stack: { kubeconfig: env.kubeconfig, region: env.region, sesEndpoint: spec.sesEndpoint ?? env.sesEndpoint, dnsServer: spec.dnsServers ?? env.dnsServer },
    logFile: join(env.workDir, `faults-${process.pid}-${Date.now()}-${label}.log`),
    args: [...TEST_TUNING_FLAGS, '--dns-timeout', '1s', ...(spec.args ?? [])],
  });
  const faultOperator: FaultOperator = Object.assign(operator, {
    label,
    async ready(msg = 'running', timeoutMs = 30_000) {
      await operator.waitForLog(msg, timeoutMs);
      if (msg === 'running') faultOperator.runningAt ??= Date.now();
    },
  });
  return faultOperator;
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

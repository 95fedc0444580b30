import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { PROJECT_ROOT } from '../../src/stack/go-binaries.ts';
import { startProcess, waitUntil, type ManagedProcess } from '../../src/stack/processes.ts';

export interface OperatorProcess {
  readonly process: ManagedProcess;
  readonly logFile: string;
  readonly metricsUrl: string;
  readonly probesUrl: string;
  /** Every JSON log line written so far. */
  logs(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Fake credentials: the simulator ignores signatures; the security tests look for them in output. */
export const FAKE_AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0001', AWS_SECRET_ACCESS_KEY: 'fake/secret/key/never-logged-0001' };

/**
 * Starts `ses-operator run` as a real child process against the shared local stack and waits
 * until its caches are synced. A separate process, so tests can SIGKILL and restart it.
 */
export async function startOperator(extraArgs: string[] = [], env: Record<string, string> = {}, options: { waitFor?: string } = {}): Promise<OperatorProcess> {
  const stack = inject('stack');
  const args = [
    join(PROJECT_ROOT, 'src/cli/main.ts'),
    'run',
    '--kubeconfig',
    stack.kubeconfig,
    '--region',
    stack.region,
    '--ses-endpoint',
    stack.sesEndpoint,
    '--dns-servers',
    stack.dnsServer,
    '--ses-rate-limit',
    '20',
    '--recheck-fast',
    '1s',
    '--recheck-fast-max',
    '2s',
    '--log-level',
    'debug',
    // Ephemeral ports: several operators may run at once (leader election tests).
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--health-probe-bind-address',
    '127.0.0.1:0',
    ...extraArgs,
  ];
  const logFile = join(stack.kubeconfig, '..', `operator-${process.pid}-${Date.now()}.log`);
  const child = startProcess('ses-operator', process.execPath, args, { logFile, env: { ...process.env, ...FAKE_AWS_ENV, ...env } });
  const logs = async () => parseJsonLines(await readFile(logFile, 'utf8').catch(() => ''));
  const waitFor = options.waitFor ?? 'running';
  await waitUntil(`the operator to log "${waitFor}"`, async () => ((await logs()).some((line) => line.msg === waitFor) ? true : undefined), {
    timeoutMs: 30_000,
    process: child,
  });
  const starting = (await logs()).find((line) => line.msg === 'starting') ?? {};
  return {
    process: child,
    logFile,
    logs,
    metricsUrl: String(starting.metrics),
    probesUrl: String(starting.probes),
    stop: () => child.stop(15_000),
    kill: () => child.kill(),
  };
}

function parseJsonLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // the last line may still be half written
    }
  }
  return lines;
}

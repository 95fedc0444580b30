import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from './go-binaries.ts';
import { startProcess, type ManagedProcess } from './processes.ts';
import { waitUntil } from './wait.ts';
import type { StackEndpoints } from './stack.ts';

/** `ses-operator run` as a real child process against the local stack, as tests, the demo and benchmarks run it. */
export interface LocalOperator {
  readonly process: ManagedProcess;
  readonly logFile: string;
  /** Epoch ms just before the process was spawned. */
  readonly spawnedAt: number;
  readonly metricsUrl: string;
  readonly probesUrl: string;
  /** Every JSON log line written so far. */
  logs(): Promise<Record<string, unknown>[]>;
  /** The first log line with this message, waiting for it. */
  waitForLog(message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The first log line with this message so far, if any (reads only what was appended since the last call). */
  findLog(message: string): Promise<Record<string, unknown> | undefined>;
  stop(): Promise<void>;
  kill(): Promise<void>;
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
  env?: Record<string, string>;
  cwd?: string;
  name?: string;
}

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
export function localOperatorArgs(stack: StackEndpoints, extra: string[] = [], main = join(PROJECT_ROOT, 'src/cli/main.ts')): string[] {
  return [
    main,
    'run',
    ...['--kubeconfig', stack.kubeconfig, '--region', stack.region, '--ses-endpoint', stack.sesEndpoint, '--dns-servers', stack.dnsServer],
    ...['--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0'],
    ...extra,
  ];
}

/** Starts the operator and waits for its "starting" line, which carries its metrics and probes URLs. */
export async function startLocalOperator(options: LocalOperatorOptions): Promise<LocalOperator> {
  const spawnedAt = Date.now();
  const child = startProcess(
    options.name ?? 'ses-operator',
    process.execPath,
    [...(options.nodeArgs ?? []), ...localOperatorArgs(options.stack, options.args, options.main)],
    {
      logFile: options.logFile,
      cwd: options.cwd,
      // The simulator ignores signatures; any fixed pair satisfies the SDK's credential chain.
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', ...options.env },
    },
  );
  const logs = async () => parseJsonLines(await readFile(options.logFile, 'utf8').catch(() => ''));
  const firstLines = new FirstLogLines(options.logFile);
  const findLog = (message: string) => firstLines.find(message);
  const waitForLog = (message: string, timeoutMs = 30_000) =>
    waitUntil(`the operator to log "${message}"`, () => findLog(message), { timeoutMs, process: child });
  const starting = await waitForLog('starting');
  return {
    process: child,
    logFile: options.logFile,
    spawnedAt,
    metricsUrl: String(starting.metrics),
    probesUrl: String(starting.probes),
    logs,
    waitForLog,
    findLog,
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

/** Reads a JSON log incrementally, keeping only the first line of each message: a benchmark's log grows to many MB. */
class FirstLogLines {
  readonly #path: string;
  #offset = 0;
  #partial = '';
  readonly #first = new Map<string, Record<string, unknown>>();

  constructor(path: string) {
    this.#path = path;
  }

  async find(message: string): Promise<Record<string, unknown> | undefined> {
    if (!this.#first.has(message)) await this.#read();
    return this.#first.get(message);
  }

  async #read(): Promise<void> {
    const file = await open(this.#path, 'r').catch(() => undefined);
    if (!file) return;
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        const lines = (this.#partial + buffer.toString('utf8', 0, bytesRead)).split('\n');
        this.#partial = lines.pop() ?? '';
        for (const line of parseJsonLines(lines.join('\n'))) {
          const msg = String(line.msg);
          if (!this.#first.has(msg)) this.#first.set(msg, line);
        }
      }
    } finally {
      await file.close();
    }
  }
}

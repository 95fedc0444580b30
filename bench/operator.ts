import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcess, waitUntil, type ManagedProcess } from '../src/stack/processes.ts';
import type { LocalStack } from '../src/stack/stack.ts';
import { scrape, type Scrape } from './metrics.ts';

export interface BenchOperator {
  readonly process: ManagedProcess;
  readonly logFile: string;
  /** Epoch ms just before the process was spawned (cold start counts from here). */
  readonly spawnedAt: number;
  readonly metricsUrl: string;
  readonly probesUrl: string;
  scrape(): Promise<Scrape>;
  /** Epoch ms of the first log line with this message, once it has been written. */
  loggedAt(message: string): Promise<number | undefined>;
  ready(): Promise<boolean>;
  stop: () => Promise<void>;
}

export interface OperatorOptions {
  name: string;
  /** The operator's entry point: the compiled dist/cli/main.js (as deployed) or src/cli/main.ts. */
  main: string;
  /** Flags after the defaults (later ones win in node's parseArgs). */
  args?: string[];
  /** Node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  outDir: string;
  /** Wait for the "running" line (controllers started) instead of only "starting". */
  waitForRunning?: boolean;
}

/** Starts `ses-operator run` as a real child process, as a Deployment would, and reads its metrics address from the "starting" line. */
export async function startBenchOperator(stack: LocalStack, options: OperatorOptions): Promise<BenchOperator> {
  const logFile = join(options.outDir, `operator-${options.name}.log`);
  const args = [
    ...(options.nodeArgs ?? []),
    options.main,
    'run',
    '--kubeconfig',
    stack.kubeconfig,
    '--region',
    stack.region,
    '--ses-endpoint',
    stack.sesEndpoint,
    '--dns-servers',
    stack.dnsServer,
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--health-probe-bind-address',
    '127.0.0.1:0',
    ...(options.args ?? []),
  ];
  await writeFile(logFile, ''); // a rerun into the same folder must not find the last run's lines
  const spawnedAt = Date.now();
  // The simulator ignores signatures; any fixed pair satisfies the SDK's credential chain.
  const child = startProcess(`ses-operator (${options.name})`, process.execPath, args, {
    logFile,
    cwd: options.outDir,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' },
  });
  const lines = new LogReader(logFile);
  const starting = await waitUntil('the operator to log "starting"', async () => (await lines.find('starting')) ?? undefined, {
    timeoutMs: 60_000,
    process: child,
  });
  if (options.waitForRunning !== false) {
    await waitUntil('the operator to log "running"', async () => ((await lines.find('running')) ? true : undefined), { timeoutMs: 600_000, process: child });
  }
  const metricsUrl = String(starting.metrics);
  const probesUrl = String(starting.probes);
  return {
    process: child,
    logFile,
    spawnedAt,
    metricsUrl,
    probesUrl,
    scrape: () => scrape(metricsUrl),
    async loggedAt(message) {
      const line = await lines.find(message);
      return line ? Date.parse(String(line.time)) : undefined;
    },
    async ready() {
      return (await fetch(`${probesUrl}/readyz`).catch(() => undefined))?.status === 200;
    },
    stop: () => child.stop(30_000),
  };
}

/** Reads a JSON log file incrementally, keeping only the first line of each message (the log may grow large). */
class LogReader {
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
        const text = this.#partial + buffer.toString('utf8', 0, bytesRead);
        const lines = text.split('\n');
        this.#partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('{')) continue;
          try {
            const parsed = JSON.parse(line) as Record<string, unknown>;
            const msg = String(parsed.msg);
            if (!this.#first.has(msg)) this.#first.set(msg, parsed);
          } catch {
            // not a log line
          }
        }
      }
    } finally {
      await file.close();
    }
  }
}

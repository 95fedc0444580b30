import { deployedOperatorRuntime } from '../harness/stack/deployment-node-options.ts';
import type { LocalStack } from '../harness/stack/stack.ts';
import type { BenchConfig } from './config.ts';
import type { KubeClient } from '../harness/stack/kube-client.ts';
import { startBenchOperator, type BenchOperator } from './operator.ts';
import type { Row } from './report.ts';
import type { SimClient } from '../harness/stack/sim-client.ts';
import type { SetupTracker } from './tracker.ts';

/** How the shipped image and Deployment start node (flags, NODE_OPTIONS, environment): the figures are those of the operator as deployed. */
export const AS_DEPLOYED = deployedOperatorRuntime();

/** What every scenario gets: the stack, clients, the harness's watch, and where to put its figures. */
export class Context {
  readonly config: BenchConfig;
  readonly stack: LocalStack;
  readonly kube: KubeClient;
  readonly sim: SimClient;
  readonly tracker: SetupTracker;
  readonly rows: Row[] = [];
  readonly details: Record<string, unknown> = {};
  /** The operator's entry point (see build.ts). */
  readonly operatorMain: string;
  /** Operators still running, so an interrupted run stops them. */
  readonly running = new Set<BenchOperator>();

  constructor(parts: { config: BenchConfig; stack: LocalStack; kube: KubeClient; sim: SimClient; tracker: SetupTracker; operatorMain: string }) {
    this.operatorMain = parts.operatorMain;
    this.config = parts.config;
    this.stack = parts.stack;
    this.kube = parts.kube;
    this.sim = parts.sim;
    this.tracker = parts.tracker;
  }

  log(line: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  }

  /** An operator process for one phase; with --profile it writes a CPU profile into the output folder on exit. */
  async operator(name: string, args: string[], options: { heapSnapshots?: boolean; waitForRunning?: boolean } = {}): Promise<BenchOperator> {
    // As the image and the Deployment start it (see BenchConfig.podHeap).
    const nodeArgs = this.config.podHeap ? [...AS_DEPLOYED.nodeArgs] : [];
    if (this.config.profile) nodeArgs.push('--cpu-prof', `--cpu-prof-name=operator-${name}.cpuprofile`);
    if (this.config.profile && options.heapSnapshots) nodeArgs.push('--heapsnapshot-signal=SIGUSR2');
    const operator = await startBenchOperator(this.stack, {
      name,
      main: this.operatorMain,
      args,
      nodeArgs,
      env: this.config.podHeap ? AS_DEPLOYED.env : {},
      outDir: this.config.outDir,
      waitForRunning: options.waitForRunning,
    });
    this.running.add(operator);
    return {
      ...operator,
      stop: async () => {
        await operator.stop();
        this.running.delete(operator);
      },
    };
  }

  add(row: Row): void {
    this.rows.push(row);
  }
}

import { readFileSync } from 'node:fs';
import { cpuSeconds, USER_HZ } from './proc.ts';

/** CPU seconds used over a window: the whole machine, and the processes a setup's work runs in. */
export interface CpuUse {
  machine: number;
  /** The operator process; 0 for the floor, whose clients run in this process. */
  operator: number;
  apiserver: number;
  etcd: number;
  /** This process: the simulator, the watch that times setups, the floor's clients. */
  bench: number;
}

/**
 * Where the CPU of a burst goes. On two cores a burst of new setups is CPU-bound: the last one is
 * done when the machine has done the work of all, so the tail follows CPU per setup, wherever it is
 * spent (the operator, the API server it writes to, etcd, the simulator).
 */
export class CpuMeter {
  readonly #pids: { operator?: number; apiserver: number; etcd: number };

  constructor(pids: { operator?: number; apiserver: number; etcd: number }) {
    this.#pids = pids;
  }

  /** Starts a window; the returned function ends it and gives the CPU used in it. */
  start(): () => CpuUse {
    const before = this.#read();
    return () => combine(this.#read(), before, (after, start) => after - start);
  }

  #read(): CpuUse {
    const own = process.cpuUsage();
    const of = (pid: number | undefined) => (pid === undefined ? 0 : (cpuSeconds(pid) ?? 0));
    return {
      machine: machineBusySeconds(),
      operator: of(this.#pids.operator),
      apiserver: of(this.#pids.apiserver),
      etcd: of(this.#pids.etcd),
      bench: (own.user + own.system) / 1e6,
    };
  }
}

/** CPU seconds every core has spent busy since boot (/proc/stat: all but idle and iowait). */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / USER_HZ;
}

/** CPU use summed over windows. */
export function addCpu(a: CpuUse, b: CpuUse): CpuUse {
  return combine(a, b, (x, y) => x + y);
}

/** Each field of `a` and `b` put through `f`. */
function combine(a: CpuUse, b: CpuUse, f: (x: number, y: number) => number): CpuUse {
  return Object.fromEntries(Object.keys(NO_CPU).map((key) => [key, f(a[key as keyof CpuUse], b[key as keyof CpuUse])])) as unknown as CpuUse;
}

export const NO_CPU: CpuUse = { machine: 0, operator: 0, apiserver: 0, etcd: 0, bench: 0 };

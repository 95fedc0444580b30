import { simulatorControl } from '../simulator/control-client.ts';
import type { CallsReport } from '../simulator/call-log.ts';
import type { Faults } from '../simulator/faults.ts';
import type { StateSnapshot } from '../simulator/state.ts';

/** The SES simulator's control interface (/_simulator/..., see CONTROL.md), for tests, the fault suite and benchmarks. */
export class SimClient {
  readonly #endpoint: string;

  constructor(sesEndpoint: string) {
    this.#endpoint = sesEndpoint;
  }

  #call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
    return simulatorControl<T>(this.#endpoint, path, { method, body });
  }

  /** The calls after sequence number `sinceSeq` (all of them by default), with counts since start. */
  calls(sinceSeq = 0): Promise<CallsReport> {
    return this.#call(`calls?since=${sinceSeq}`);
  }

  /** The sequence number of the newest call so far: later reads with `since` see only what follows. */
  async mark(): Promise<number> {
    const report = await this.calls(Number.MAX_SAFE_INTEGER);
    return report.total;
  }

  /** Replaces every fault (fields left out are off). */
  setFaults(faults: Partial<Faults>): Promise<Faults> {
    return this.#call('faults', 'PUT', faults);
  }

  state(): Promise<StateSnapshot> {
    return this.#call('state');
  }

  /** Runs one DKIM pass now instead of waiting for the simulator's interval. */
  dkimCheck(): Promise<{ dkimStatuses: Record<string, number> }> {
    return this.#call('dkim-check', 'POST');
  }

  /**
   * Runs DKIM passes back to back with `intervalMs` between them, as SES re-checks pending domains
   * on its own schedule; a benchmark keeps the stack's own interval long so pending domains cost no
   * DNS traffic while it measures.
   */
  driveDkim(intervalMs: number): { stop(): Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        await this.dkimCheck().catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
      },
    };
  }
}

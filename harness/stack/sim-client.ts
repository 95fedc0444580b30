import { SimulatorControlClient } from '../simulator/control-client.ts';

/**
 * The SES simulator's control interface (/_simulator/..., see CONTROL.md) for tests, the fault
 * suite and benchmarks: the simulator's own client plus what those callers add on top.
 */
export class SimClient extends SimulatorControlClient {
  /** The sequence number of the newest call so far: later reads with `since` see only what follows. */
  async mark(): Promise<number> {
    const report = await this.calls(Number.MAX_SAFE_INTEGER);
    return report.total;
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

import { simulatorControl } from '../harness/simulator/control-client.ts';
import type { CallRecord, CallsReport } from '../harness/simulator/call-log.ts';
import type { Faults } from '../harness/simulator/faults.ts';
import type { StateSnapshot } from '../harness/simulator/state.ts';

/** The SES simulator's control interface (/_simulator/...), as any client outside its process would use it. */
export class SimClient {
  readonly #endpoint: string;

  constructor(sesEndpoint: string) {
    this.#endpoint = sesEndpoint;
  }

  #call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
    return simulatorControl<T>(this.#endpoint, path, { method, body });
  }

  calls(sinceSeq = 0): Promise<CallsReport> {
    return this.#call(`calls?since=${sinceSeq}`);
  }

  /** The sequence number of the newest call so far: later reads with `since` see only what follows. */
  async mark(): Promise<number> {
    const report = await this.calls(Number.MAX_SAFE_INTEGER);
    return report.total;
  }

  setFaults(faults: Partial<Faults>): Promise<Faults> {
    return this.#call('faults', 'PUT', faults);
  }

  state(): Promise<StateSnapshot> {
    return this.#call('state');
  }

  dkimCheck(): Promise<{ dkimStatuses: Record<string, number> }> {
    return this.#call('dkim-check', 'POST');
  }

  /**
   * Runs DKIM passes back to back with `intervalMs` between them, as SES re-checks pending domains
   * on its own schedule; the stack's own interval is kept long so the throughput scenario's pending
   * domains cost no DNS traffic.
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

/** Calls naming one of `targets` (tenant names and domains), counted per target. */
export function callsByTarget(log: CallRecord[], targets: Set<string>): Map<string, CallRecord[]> {
  const out = new Map<string, CallRecord[]>();
  for (const call of log) {
    const target = call.target ?? arnTarget(call.resourceArn);
    if (!target || !targets.has(target)) continue;
    let list = out.get(target);
    if (!list) out.set(target, (list = []));
    list.push(call);
  }
  return out;
}

/** An association names the tenant in `target` and the identity in its ARN. */
function arnTarget(arn: string | undefined): string | undefined {
  return arn?.split(':identity/')[1];
}

export function throttled(log: CallRecord[]): number {
  return log.filter((call) => call.error === 'TooManyRequestsException').length;
}

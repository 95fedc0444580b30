import type { CallsReport } from './call-log.ts';
import type { ErrorRule, ErrorRuleInput } from './error-rules.ts';
import type { Faults } from './faults.ts';
import type { SendingStatus, StateSnapshot } from './state.ts';

/**
 * One request to the SES simulator's control interface (`/_simulator/...`, see CONTROL.md) from
 * outside its process: the parsed JSON answer, or an Error naming the method, path and status.
 */
export async function simulatorControl<T>(sesEndpoint: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const response = await fetch(`${sesEndpoint}/_simulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!response.ok) throw new Error(`simulator ${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The control interface as typed methods, for tests, the fault suite and benchmarks. */
export class SimulatorControlClient {
  readonly sesEndpoint: string;

  constructor(sesEndpoint: string) {
    this.sesEndpoint = sesEndpoint;
  }

  protected call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
    return simulatorControl<T>(this.sesEndpoint, path, { method, body });
  }

  /** Calls since `sinceSeq`, optionally only those signed for `region` (counts always cover every call). */
  calls(sinceSeq = 0, region?: string): Promise<CallsReport> {
    return this.call(`calls?since=${sinceSeq}${region === undefined ? '' : `&region=${encodeURIComponent(region)}`}`);
  }

  state(): Promise<StateSnapshot> {
    return this.call('state');
  }

  faults(): Promise<Faults> {
    return this.call('faults');
  }

  setFaults(faults: Partial<Faults>): Promise<Faults> {
    return this.call('faults', 'PUT', faults);
  }

  reset(): Promise<void> {
    return this.call<unknown>('reset', 'POST').then(() => undefined);
  }

  dkimCheck(): Promise<{ dkimStatuses: Record<string, number>; mailFromStatuses: Record<string, number> }> {
    return this.call('dkim-check', 'POST');
  }

  /** Pauses (DISABLED) or reinstates (REINSTATED, ENABLED) a tenant, as SES does; region defaults to the simulator's. */
  setTenantSendingStatus(
    tenantName: string,
    sendingStatus: SendingStatus,
    region?: string,
  ): Promise<{ region: string; tenantName: string; sendingStatus: SendingStatus }> {
    return this.call('tenant-sending-status', 'POST', { tenantName, sendingStatus, ...(region === undefined ? {} : { region }) });
  }

  /** Makes calls of one operation answer a modeled SES error (see CONTROL.md); answers the rule with its id. */
  injectError(rule: ErrorRuleInput): Promise<ErrorRule> {
    return this.call('errors', 'POST', rule);
  }

  errorRules(): Promise<ErrorRule[]> {
    return this.call<{ rules: ErrorRule[] }>('errors').then((answer) => answer.rules);
  }

  /** Removes one error rule, or all of them when `id` is left out. */
  clearErrors(id?: number): Promise<{ removed: number }> {
    return this.call(id === undefined ? 'errors' : `errors/${id}`, 'DELETE');
  }
}

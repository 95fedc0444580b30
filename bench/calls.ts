import type { CallRecord } from '../harness/simulator/call-log.ts';

/** Calls naming one of `targets` (tenant names and domains), counted per target. */
export function callsByTarget(log: CallRecord[], targets: Set<string>): Map<string, CallRecord[]> {
  const out = new Map<string, CallRecord[]>();
  for (const call of log) {
    const target = callTarget(call);
    if (!target || !targets.has(target)) continue;
    let list = out.get(target);
    if (!list) out.set(target, (list = []));
    list.push(call);
  }
  return out;
}

/** The tenant or identity a call is about. */
export function callTarget(call: CallRecord): string | undefined {
  return call.target ?? arnTarget(call.resourceArn);
}

/** An association names the tenant in `target` and the identity in its ARN. */
function arnTarget(arn: string | undefined): string | undefined {
  return arn?.split(':identity/')[1];
}

export function throttled(log: CallRecord[]): number {
  return log.filter((call) => call.error === 'TooManyRequestsException').length;
}

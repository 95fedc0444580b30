import type { SesSetup, SesSetupStatus } from '../../api/sessetup.ts';
import { setCondition } from '../../runtime/conditions.ts';
import { markReconciling } from '../kstatus.ts';
import type { DeletionOutcome } from './finalize.ts';
import { judgeMailFrom } from './mail-from.ts';
import { composeConditions } from './status.ts';
import { FACT_KEYS, NOT_YET, type Facts, type Happening, type Verdicts } from './step.ts';

/** What a reconcile found out: the steps' facts and verdicts (and the error that stopped them), or how a deletion went. */
export type Outcome = { kind: 'steps'; facts: Facts; verdicts: Verdicts; happened: Happening[]; error?: unknown } | DeletionOutcome;

export interface Summary {
  /** The status to write (the caller patches only what differs), or undefined when the object is gone. */
  status?: SesSetupStatus;
  events: Happening[];
  /** Every DNS record just became verified. */
  verifiedNow: boolean;
}

export interface SummarizeContext {
  /** The setup's referrers, as people read them. */
  referrers: string[];
  usedByLimit: number;
  now: string;
}

/**
 * The one place that turns what a reconcile found into status and Events: TenantReady,
 * IdentityReady, DnsVerified, MailFromReady, Ready, Reconciling/Stalled, DeletionBlocked, usedBy, and
 * observedGeneration with every write.
 */
export function summarize(setup: SesSetup, outcome: Outcome, context: SummarizeContext): Summary {
  if (outcome.kind === 'released') return { events: outcome.happened, verifiedNow: false };
  const generation = setup.metadata.generation;
  const g = generation === undefined ? {} : { observedGeneration: generation };
  const status: SesSetupStatus = { ...structuredClone(setup.status ?? {}), ...g, ...usedBy(context) };
  if (!context.referrers.length) {
    delete status.usedBy;
    delete status.usedByCount;
  }
  const mark = (type: string, value: 'True' | 'False', reason: string, message: string) => {
    status.conditions = setCondition(status.conditions, { type, status: value, reason, message, ...g }, context.now);
  };
  const events: Happening[] = [];
  let verifiedNow = false;
  switch (outcome.kind) {
    case 'steps': {
      for (const key of FACT_KEYS) {
        if (outcome.facts[key] === undefined) delete status[key];
        else (status as Record<string, unknown>)[key] = structuredClone(outcome.facts[key]);
      }
      const failing = outcome.error === undefined ? NOT_YET : { ok: false, reason: 'SesError', message: messageOf(outcome.error) };
      const { verdicts } = outcome;
      const mailFrom = judgeMailFrom(setup.spec.mailFrom, status.mailFrom, status.dnsRecords);
      status.conditions = composeConditions(
        status.conditions,
        { tenant: verdicts.tenant ?? failing, identity: verdicts.identity ?? failing, mailFrom, stalled: verdicts.stalled, publication: verdicts.publication },
        status.dnsRecords,
        generation,
        context.now,
      );
      events.push(...outcome.happened);
      // One Event per distinct problem: a retry that finds the same one (a slow AccessDenied retry) sends none.
      if (verdicts.stalled && !stalledBefore(setup, verdicts.stalled)) events.push({ type: 'Warning', ...verdicts.stalled });
      verifiedNow = status.dnsVerified === true && !setup.status?.dnsVerified;
      if (verifiedNow)
        events.push({ type: 'Normal', reason: 'Verified', message: `all ${status.dnsRecords?.length ?? 0} DNS records verified; the domain is ready to send` });
      break;
    }
    case 'blocked':
      mark('DeletionBlocked', 'True', 'ReferencedBy', outcome.message);
      mark('Ready', 'False', 'DeletionBlocked', outcome.message);
      events.push({ type: 'Warning', reason: 'DeletionBlocked', message: outcome.message });
      break;
    case 'failed':
      mark('Ready', 'False', 'TearDownFailed', outcome.message);
      status.conditions = markReconciling(status.conditions, { reason: 'TearDownFailed', message: outcome.message, ...g }, context.now);
      events.push({ type: 'Warning', reason: 'TearDownFailed', message: outcome.message });
      break;
    case 'released-earlier':
      break;
  }
  return { status: withoutUndefined(status), events, verifiedNow };
}

function stalledBefore(setup: SesSetup, stalled: { reason: string; message: string }): boolean {
  const previous = setup.status?.conditions?.find((condition) => condition.type === 'Stalled');
  return previous?.status === 'True' && previous.reason === stalled.reason && previous.message === stalled.message;
}

function usedBy(context: SummarizeContext): Pick<SesSetupStatus, 'usedBy' | 'usedByCount'> {
  return context.referrers.length ? { usedBy: context.referrers.slice(0, context.usedByLimit), usedByCount: context.referrers.length } : {};
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Status as the API server stores it (no undefined members), so an unchanged status compares equal and writes nothing. */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .map(([key, child]) => [key, withoutUndefined(child)]),
  ) as T;
}

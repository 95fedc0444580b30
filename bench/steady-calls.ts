import type { CallRecord } from '../harness/simulator/call-log.ts';
import { callTarget } from './calls.ts';

/** What a due re-check of a verified setup reads back: its tenant, identity and association, once each. */
const READ_BACK = new Set(['GetTenant', 'GetEmailIdentity', 'ListResourceTenants']);
/** The orphan sweep's list calls: nothing else lists. */
export const SWEEP_LISTS = ['ListTenants', 'ListEmailIdentities'] as const;
/** What the sweep may do about a resource no live setup records: read it (SES lists carry no tags), delete an orphan. */
const UNRECORDED_WORK = new Set(['GetTenant', 'GetEmailIdentity', 'DeleteEmailIdentity', 'DeleteTenant', 'DeleteTenantResourceAssociation']);

/** The sweeps that ran wholly inside the window, as the operator's "orphan sweep done" lines report them. */
export interface SweepsSeen {
  sweeps: number;
  /** SES calls the operator's sweeps made (their own count, from the log lines). */
  calls: number;
  /** List pages one sweep needs: ListTenants and ListEmailIdentities, from what SES holds and the sweeper's page sizes. */
  pagesPerSweep: Record<(typeof SWEEP_LISTS)[number], number>;
}

export interface SteadyCalls {
  /** Re-check read-backs of live setups' resources, each resource counted once. */
  readBacks: number;
  /** The tenants read back (one per re-checked setup), for a look at which setups the schedule took. */
  readBackTenants: string[];
  /** The sweeps' list pages, by operation. */
  lists: Record<(typeof SWEEP_LISTS)[number], number>;
  /** Calls about resources no live setup records (the sweep's reads, deletions of orphans). */
  unrecorded: number;
  /** Calls nothing in the steady state asks for; each kind below adds to it. */
  unnecessary: number;
  why: {
    /** A live setup's resource read again in the window (a second re-check, or the sweep reading what a re-check read). */
    secondReads: number;
    /** What the sweeps' own count says they made beyond their lists and the unrecorded resources: reads of live setups' resources. */
    sweepReadsOfLive: number;
    /** Calls about unrecorded resources that the sweeps' own count does not cover (made by something else). */
    unrecordedNotBySweep: number;
    /** List pages beyond what the sweeps need. */
    extraPages: number;
    /** Any other operation (a write, a read no step of a verified setup makes). */
    otherOperations: Record<string, number>;
  };
}

/**
 * Sorts the SES calls of a steady-state window into what the operator's schedule asks for and what
 * it does not. Live setups' resources (`live`: tenant names and lower-case domains) may be read back
 * once each (a due re-check); the sweep may list its pages and read or delete what no live setup
 * records. The sweep's own call count (from its log lines) tells its reads of live resources apart
 * from the re-checks', which read the same resources: the sweep must make none.
 */
export function classifySteadyCalls(log: readonly CallRecord[], live: ReadonlySet<string>, sweeps: SweepsSeen): SteadyCalls {
  const lists = { ListTenants: 0, ListEmailIdentities: 0 };
  const perResource = new Map<string, number>();
  const otherOperations: Record<string, number> = {};
  let unrecorded = 0;
  for (const call of log) {
    if (call.operation === 'ListTenants' || call.operation === 'ListEmailIdentities') {
      lists[call.operation]++;
      continue;
    }
    const target = callTarget(call);
    const isLive = target !== undefined && (live.has(target) || live.has(target.toLowerCase()));
    if (isLive && READ_BACK.has(call.operation)) {
      const key = `${call.operation} ${target.toLowerCase()}`;
      perResource.set(key, (perResource.get(key) ?? 0) + 1);
    } else if (!isLive && UNRECORDED_WORK.has(call.operation)) unrecorded++;
    else otherOperations[call.operation] = (otherOperations[call.operation] ?? 0) + 1;
  }
  const readBackTenants = [...perResource.keys()].filter((key) => key.startsWith('GetTenant ')).map((key) => key.slice('GetTenant '.length));
  let secondReads = 0;
  for (const count of perResource.values()) secondReads += count - 1;
  const extraPages = SWEEP_LISTS.reduce((sum, op) => sum + Math.max(0, lists[op] - sweeps.sweeps * sweeps.pagesPerSweep[op]), 0);
  // Positive: the sweeps made calls the harness cannot see as theirs (reads of live resources).
  // Negative: calls about unrecorded resources that no sweep made.
  const unaccounted = sweeps.calls - (lists.ListTenants + lists.ListEmailIdentities + unrecorded);
  const sweepReadsOfLive = Math.max(0, unaccounted);
  // (List calls no sweep made are extra pages already.)
  const unrecordedNotBySweep = Math.min(unrecorded, Math.max(0, -unaccounted));
  const other = Object.values(otherOperations).reduce((sum, count) => sum + count, 0);
  return {
    readBacks: perResource.size,
    readBackTenants,
    lists,
    unrecorded,
    // A sweep's read of a resource a re-check also read shows in both counts: the larger is a lower bound of the calls too many.
    unnecessary: other + extraPages + unrecordedNotBySweep + Math.max(secondReads, sweepReadsOfLive),
    why: { secondReads, sweepReadsOfLive, unrecordedNotBySweep, extraPages, otherOperations },
  };
}

/** Pages one sweep lists: at least one per list, however few resources SES holds. */
export function pagesFor(resources: number, pageSize: number): number {
  return Math.max(1, Math.ceil(resources / pageSize));
}

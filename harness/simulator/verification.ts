import type { DkimStatus } from './state.ts';

/** A record set under verification: DKIM CNAMEs or MAIL FROM MX + TXT. */
export interface Verification {
  status: DkimStatus;
  /** When verification started: a PENDING check fails for good this long after it. */
  startedAt: number;
  /** When the records were first missed after SUCCESS. */
  lapsedAt?: number;
}

/**
 * One check's effect, as SES describes DKIM and MAIL FROM status: PENDING until the records
 * resolve, then SUCCESS; records gone after SUCCESS -> TEMPORARY_FAILURE, back -> SUCCESS; still
 * unverified `failureAfterMs` after the start (PENDING) or the lapse (TEMPORARY_FAILURE) -> FAILED,
 * which is final. Other statuses are not checked and stay as they are.
 */
export function advance(current: Verification, verified: boolean, now: number, failureAfterMs: number): Verification {
  const { status, startedAt, lapsedAt } = current;
  if (status === 'PENDING') {
    if (verified) return { status: 'SUCCESS', startedAt };
    return { status: now - startedAt >= failureAfterMs ? 'FAILED' : 'PENDING', startedAt };
  }
  if (status === 'SUCCESS') return verified ? { status, startedAt } : { status: 'TEMPORARY_FAILURE', startedAt, lapsedAt: now };
  if (status === 'TEMPORARY_FAILURE') {
    if (verified) return { status: 'SUCCESS', startedAt };
    const since = lapsedAt ?? now;
    return { status: now - since >= failureAfterMs ? 'FAILED' : 'TEMPORARY_FAILURE', startedAt, lapsedAt: since };
  }
  return current;
}

/** Statuses SES keeps checking: PENDING until it settles, SUCCESS and TEMPORARY_FAILURE for lapses. */
export function isChecked(status: DkimStatus): boolean {
  return status === 'PENDING' || status === 'SUCCESS' || status === 'TEMPORARY_FAILURE';
}

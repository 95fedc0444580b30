import type { Condition } from '../api/conditions.ts';
import { removeCondition, setCondition } from '../runtime/conditions.ts';

/**
 * The kstatus pair, as Flux's conditions helpers keep it: Reconciling and Stalled are present
 * only while true, and never both at once.
 */
export interface Progress {
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** Still working towards Ready (kstatus InProgress). */
export function markReconciling(conditions: readonly Condition[] | undefined, progress: Progress, now: string): Condition[] {
  return setCondition(removeCondition(conditions, 'Stalled'), { type: 'Reconciling', status: 'True', ...progress }, now);
}

/** Cannot progress without a change by a person (kstatus Failed). */
export function markStalled(conditions: readonly Condition[] | undefined, progress: Progress, now: string): Condition[] {
  return setCondition(removeCondition(conditions, 'Reconciling'), { type: 'Stalled', status: 'True', ...progress }, now);
}

/** Done: neither reconciling nor stalled. */
export function markSettled(conditions: readonly Condition[] | undefined): Condition[] {
  return removeCondition(removeCondition(conditions, 'Reconciling'), 'Stalled');
}

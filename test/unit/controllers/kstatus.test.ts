import { describe, expect, it } from 'vitest';
import { markReconciling, markSettled, markStalled } from '../../../src/controllers/kstatus.ts';

const T0 = '2026-11-28T12:00:00Z';
const T1 = '2026-11-28T12:05:00Z';

describe('kstatus helpers', () => {
  it('keep Reconciling and Stalled mutually exclusive, each present only while true', () => {
    const reconciling = markReconciling(undefined, { reason: 'RecordsNotVerified', message: 'waiting', observedGeneration: 1 }, T0);
    expect(reconciling).toEqual([
      { type: 'Reconciling', status: 'True', observedGeneration: 1, lastTransitionTime: T0, reason: 'RecordsNotVerified', message: 'waiting' },
    ]);
    const stalled = markStalled(reconciling, { reason: 'TenantNotOwned', message: 'someone else' }, T1);
    expect(stalled.map((c) => c.type)).toEqual(['Stalled']);
    expect(markReconciling(stalled, { reason: 'Creating', message: 'again' }, T1).map((c) => c.type)).toEqual(['Reconciling']);
    expect(markSettled([...stalled, { type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: T0 }]).map((c) => c.type)).toEqual([
      'Ready',
    ]);
  });

  it('keep lastTransitionTime while the condition stays true, so re-asserting it writes nothing new', () => {
    const first = markReconciling(undefined, { reason: 'A', message: 'a' }, T0);
    expect(markReconciling(first, { reason: 'B', message: 'b' }, T1)[0]).toMatchObject({ reason: 'B', lastTransitionTime: T0 });
  });
});

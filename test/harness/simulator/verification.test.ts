import { describe, expect, it } from 'vitest';
import { advance, isChecked } from '../../../harness/simulator/verification.ts';

const WINDOW = 1_000;

describe('advance: one DNS check of DKIM or MAIL FROM records', () => {
  it('PENDING turns SUCCESS when verified, FAILED once the window since the start has passed', () => {
    expect(advance({ status: 'PENDING', startedAt: 0 }, true, 10, WINDOW)).toEqual({ status: 'SUCCESS', startedAt: 0 });
    expect(advance({ status: 'PENDING', startedAt: 0 }, false, 999, WINDOW)).toEqual({ status: 'PENDING', startedAt: 0 });
    expect(advance({ status: 'PENDING', startedAt: 0 }, false, 1_000, WINDOW)).toEqual({ status: 'FAILED', startedAt: 0 });
  });

  it('SUCCESS lapses to TEMPORARY_FAILURE, stamped with the time of the lapse', () => {
    expect(advance({ status: 'SUCCESS', startedAt: 0 }, true, 5_000, WINDOW)).toEqual({ status: 'SUCCESS', startedAt: 0 });
    expect(advance({ status: 'SUCCESS', startedAt: 0 }, false, 5_000, WINDOW)).toEqual({ status: 'TEMPORARY_FAILURE', startedAt: 0, lapsedAt: 5_000 });
  });

  it('TEMPORARY_FAILURE recovers when verified, turns FAILED once the window since the lapse has passed', () => {
    const lapsed = { status: 'TEMPORARY_FAILURE' as const, startedAt: 0, lapsedAt: 5_000 };
    expect(advance(lapsed, true, 5_500, WINDOW)).toEqual({ status: 'SUCCESS', startedAt: 0 });
    expect(advance(lapsed, false, 5_999, WINDOW)).toEqual(lapsed);
    expect(advance(lapsed, false, 6_000, WINDOW)).toEqual({ ...lapsed, status: 'FAILED' });
  });

  it('leaves FAILED and NOT_STARTED alone, and checks only what SES keeps checking', () => {
    expect(advance({ status: 'FAILED', startedAt: 0 }, true, 10, WINDOW)).toEqual({ status: 'FAILED', startedAt: 0 });
    expect(advance({ status: 'NOT_STARTED', startedAt: 0 }, true, 10, WINDOW)).toEqual({ status: 'NOT_STARTED', startedAt: 0 });
    expect(['PENDING', 'SUCCESS', 'TEMPORARY_FAILURE', 'FAILED', 'NOT_STARTED'].filter((status) => isChecked(status as never))).toEqual([
      'PENDING',
      'SUCCESS',
      'TEMPORARY_FAILURE',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { observingCheckPeriod, SesCheckPeriod } from '../../../src/ses/check-period.ts';
import { MemorySes } from '../../support/fakes/ses.ts';

const options = { fallbackMs: 5_000 };
/** `count` answers, each saying SES last looked `ageMs` before the answer arrived. */
function observeAges(period: SesCheckPeriod, ages: number[]): void {
  for (const age of ages) period.observe({ dkimStatus: 'SUCCESS', lastCheckedAt: 1_000_000 - age }, 1_000_000);
}

describe('SesCheckPeriod', () => {
  it('is the fallback until SES has answered with a LastCheckedTimestamp', () => {
    const period = new SesCheckPeriod(options);
    expect(period.estimateMs()).toBe(5_000);
    period.observe({ dkimStatus: 'PENDING' }, 1_000_000);
    expect(period.sampleCount).toBe(0);
    expect(period.estimateMs()).toBe(5_000);
  });

  it('learns a longer period from a single answer: the longest age SES reported', () => {
    const period = new SesCheckPeriod(options);
    observeAges(period, [3_000, 9_800, 7_000]);
    expect(period.estimateMs()).toBe(9_800);
  });

  it('goes below the fallback only once enough samples agree', () => {
    const period = new SesCheckPeriod(options);
    observeAges(
      period,
      Array.from({ length: 15 }, (_, i) => 100 * i),
    );
    expect(period.estimateMs()).toBe(5_000);
    observeAges(period, [1_900]);
    expect(period.estimateMs()).toBe(1_900);
  });

  it('takes the maximum over the last 32 samples only: a slow pass long ago ages out', () => {
    const period = new SesCheckPeriod(options);
    observeAges(period, [20_000]);
    observeAges(
      period,
      Array.from({ length: 31 }, () => 8_000),
    );
    expect(period.estimateMs()).toBe(20_000);
    observeAges(period, [8_000]);
    expect(period.estimateMs()).toBe(8_000);
  });

  it('ignores identities SES no longer checks, clamps a clock behind SES to 0, and keeps long ages as they are', () => {
    const period = new SesCheckPeriod(options);
    period.observe({ dkimStatus: 'FAILED', lastCheckedAt: 0 }, 1_000_000);
    period.observe({ dkimStatus: 'NOT_STARTED', lastCheckedAt: 0 }, 1_000_000);
    expect(period.sampleCount).toBe(0);
    period.observe({ dkimStatus: 'TEMPORARY_FAILURE', lastCheckedAt: 1_000_500 }, 1_000_000);
    expect(period.sampleCount).toBe(1);
    observeAges(period, [3_600_000]);
    expect(period.estimateMs()).toBe(3_600_000);
  });

  it('learns from every GetEmailIdentity answer through the gateway, which otherwise passes calls through', async () => {
    const ses = new MemorySes();
    await ses.createEmailIdentity('eu-west-1', 'example.com', {});
    const stored = ses.identities.get('example.com')!;
    Object.assign(stored, { dkimStatus: 'PENDING', lastCheckedAt: 990_000 });
    const period = new SesCheckPeriod(options);
    const estimates: number[] = [];
    const observed = observingCheckPeriod(
      ses,
      period,
      () => 1_002_000,
      () => estimates.push(period.estimateMs()),
    );
    expect((await observed.getEmailIdentity('eu-west-1', 'example.com'))?.lastCheckedAt).toBe(990_000);
    expect(period.estimateMs()).toBe(12_000);
    // Told after each answer, with the estimate already updated (what a waiting plan is planned again with).
    expect(estimates).toEqual([12_000]);
    expect(await observed.getEmailIdentity('eu-west-1', 'missing.example')).toBeUndefined();
    expect(estimates).toEqual([12_000]);
    await observed.deleteEmailIdentity('eu-west-1', 'example.com');
    expect(ses.identities.has('example.com')).toBe(false);
    expect(period.sampleCount).toBe(1);
  });
});

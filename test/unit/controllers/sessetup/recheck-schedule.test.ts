import { describe, expect, it } from 'vitest';
import { RecheckSchedule } from '../../../../src/controllers/sessetup/recheck-schedule.ts';

const settings = { fastMs: 10_000, fastMaxMs: 60_000, slowMs: 3_600_000, sesRatePerSecond: 1, budgetShare: 0.5 };
const noJitter = () => 0.5; // 0.9 + 0.2 * 0.5 = 1.0

describe('RecheckSchedule', () => {
  it('backs off while unverified, up to the fast maximum', () => {
    const schedule = new RecheckSchedule(settings, noJitter);
    const delays = Array.from({ length: 5 }, () => schedule.checked('a', false, 1, 0));
    expect(delays).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
  });

  it('goes slow once verified, and fast again from the start when something breaks', () => {
    const schedule = new RecheckSchedule(settings, noJitter);
    schedule.checked('a', false, 1, 0);
    schedule.checked('a', false, 1, 0);
    expect(schedule.checked('a', true, 1, 0)).toBe(3_600_000);
    expect(schedule.checked('a', false, 1, 0)).toBe(10_000);
  });

  it('stretches intervals so the whole population stays within its share of the SES budget', () => {
    const schedule = new RecheckSchedule(settings, noJitter);
    // 10,000 verified setups, 3 calls per slow check, at 1 req/s, half of it for re-checks: each at most every 60,000 s.
    expect(schedule.checked('a', true, 10_000, 0)).toBe(60_000_000);
    expect(schedule.checked('b', false, 1_000, 0)).toBe(2_000_000);
  });

  it('keeps a new setup fast beside thousands of verified ones, and never lets both classes exceed the budget', () => {
    const schedule = new RecheckSchedule(settings, noJitter);
    // One new setup among 10,000 verified: its first re-check stays at fastMs.
    expect(schedule.checked('new', false, { verified: 10_000, unverified: 1 }, 0)).toBe(10_000);
    // The verified ones get what it leaves: 0.5/s - 1/10 s = 0.4/s for 10,000 x 3 calls -> 75,000 s.
    expect(schedule.checked('old', true, { verified: 10_000, unverified: 1 }, 0)).toBe(75_000_000);
    // 1,000 new setups beside 10,000 verified: the new ones take 3/4 of the budget, the verified a quarter.
    const many = { verified: 10_000, unverified: 1_000 };
    const fast = schedule.checked('n', false, many, 0);
    const slow = schedule.checked('v', true, many, 0);
    expect(fast).toBe(Math.round((1_000 / 0.375) * 1000));
    expect(slow).toBe(Math.round((30_000 / 0.125) * 1000));
    expect(1_000 / (fast / 1000) + 30_000 / (slow / 1000)).toBeCloseTo(0.5, 6);
  });

  it('retries what only a person can fix at the fast maximum, or the slow interval if shorter', () => {
    expect(new RecheckSchedule(settings).slowRetryMs()).toBe(60_000);
    expect(new RecheckSchedule({ ...settings, slowMs: 3_000 }).slowRetryMs()).toBe(3_000);
  });

  it('is due at once for an unverified setup never seen, and spreads verified ones over the interval', () => {
    const schedule = new RecheckSchedule(settings, () => 0.25);
    expect(schedule.isDue('new', false, 1, 1_000)).toBe(true);
    expect(schedule.isDue('old', true, 1, 1_000)).toBe(false);
    expect(schedule.delayUntilNext('old', 1_000)).toBe(900_000);
    expect(schedule.isDue('old', true, 1, 1_000 + 900_000)).toBe(true);
  });
  it('re-checks at twice the pace while only SES is left to act (CNAMEs live, SES pending), backing off the same way', () => {
    // A draw of 0: no jitter on a check waiting on SES (it is only ever later), -10 % on the fast pace.
    const schedule = new RecheckSchedule(settings, () => 0);
    const live = Array.from({ length: 5 }, () => schedule.checked('a', false, 1, 0, true));
    expect(live).toEqual([5_000, 10_000, 20_000, 30_000, 30_000]);
    // The records lapse: the pace is the fast one again, and the backoff carries on.
    expect(schedule.checked('a', false, 1, 0, false)).toBe(54_000);
  });

  it('jitters a check waiting on SES only later, never earlier than the pace', () => {
    for (const draw of [0, 0.5, 0.999]) {
      const delay = new RecheckSchedule(settings, () => draw).checked('a', false, 1, 0, true);
      expect(delay).toBeGreaterThanOrEqual(5_000);
      expect(delay).toBeLessThanOrEqual(5_500);
    }
    // The fast pace keeps its jitter both ways.
    expect(new RecheckSchedule(settings, () => 0).checked('b', false, 1, 0)).toBe(9_000);
  });

  it('keeps a check waiting on SES within the budget: never sooner than the unverified class may go', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    // One new setup among 10,000 verified: the unverified budget is 0.375/s, so at least 2.67 s; the pace (5 s) is slower.
    expect(schedule.checked('new', false, { verified: 10_000, unverified: 1 }, 0, true)).toBe(5_000);
    // 100 setups waiting on SES at once: 100 / 0.375 per s, far beyond the pace.
    expect(schedule.checked('burst', false, { verified: 10_000, unverified: 100 }, 0, true)).toBe(Math.round((100 / 0.375) * 1000));
  });
});

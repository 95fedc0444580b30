import { describe, expect, it } from 'vitest';
import { RecheckSchedule } from '../../src/controllers/sessetup/recheck-schedule.ts';

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
    // 10,000 verified setups at 1 req/s, half of it for re-checks: each at most every 20,000 s.
    expect(schedule.checked('a', true, 10_000, 0)).toBe(20_000_000);
    expect(schedule.checked('b', false, 1_000, 0)).toBe(2_000_000);
  });

  it('is due at once for an unverified setup never seen, and spreads verified ones over the interval', () => {
    const schedule = new RecheckSchedule(settings, () => 0.25);
    expect(schedule.isDue('new', false, 1, 1_000)).toBe(true);
    expect(schedule.isDue('old', true, 1, 1_000)).toBe(false);
    expect(schedule.delayUntilNext('old', 1_000)).toBe(900_000);
    expect(schedule.isDue('old', true, 1, 1_000 + 900_000)).toBe(true);
  });
});

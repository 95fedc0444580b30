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
});

/** SES answered `count` times that it last looked `ageMs` ago: the schedule learns that period. */
function learnPeriod(schedule: RecheckSchedule, ageMs: number, count = 16): void {
  for (let i = 0; i < count; i++) schedule.sesCheckPeriod.observe({ dkimStatus: 'SUCCESS', lastCheckedAt: 0 }, ageMs);
}
const waiting = { waitingOnSes: true };

describe('RecheckSchedule: waiting on SES (every DKIM CNAME live, SES still pending)', () => {
  it("re-checks first just after SES's learned period, counted from the identity's creation when the records were live before it", () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 10_000);
    // Created at 1,000; the first look after it (2,500, past a rate-limited association) finds every CNAME live:
    // SES's check comes by 11,000, margin 10 % of 10 s.
    expect(schedule.checked('a', false, 1, 2_500, { waitingOnSes: true, identityCreatedAt: 1_000 })).toBe(9_500);
  });

  it('counts from the first look that saw the CNAMEs live when that is later than the creation', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 10_000);
    schedule.checked('a', false, 1, 0, { identityCreatedAt: 0 });
    expect(schedule.checked('a', false, 1, 30_000, waiting)).toBe(11_000);
    // A check in between (a verify request) keeps the same target, not a fresh period.
    expect(schedule.checked('a', false, 1, 35_000, waiting)).toBe(6_000);
  });

  it('re-checks just after SES looks at this identity again, when its answer said when SES last looked', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 10_000);
    schedule.checked('a', false, 1, 0, { identityCreatedAt: 0 });
    // Seen live at 30,000; SES last looked at 27,000 (before they were published): it looks again by 37,000.
    expect(schedule.checked('a', false, 1, 30_000, { waitingOnSes: true, sesLastCheckedAt: 27_000 })).toBe(8_000);
  });

  it('never waits longer than the fast maximum, however long SES takes between checks', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 3_600_000);
    expect(schedule.checked('a', false, 1, 0, { waitingOnSes: true, identityCreatedAt: 0 })).toBe(60_000);
    expect(schedule.checked('a', false, 1, 60_000, waiting)).toBe(60_000);
  });

  it('after the first re-check, keeps a pace of a quarter period for one more period, then backs off as usual', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 10_000);
    schedule.checked('a', false, 1, 0, { waitingOnSes: true, identityCreatedAt: 0 });
    const paced = [11_000, 13_500, 16_000, 18_500].map((now) => schedule.checked('a', false, 1, now, waiting));
    expect(paced).toEqual([2_500, 2_500, 2_500, 2_500]);
    // Past anchor + 2 periods + margin: the fast backoff (fastMs, -10 % jitter at a draw of 0), not yet advanced by the waiting checks.
    expect(schedule.checked('a', false, 1, 21_000, waiting)).toBe(9_000);
    expect(schedule.checked('a', false, 1, 30_000, waiting)).toBe(18_000);
  });

  it('looks again one margin later when SES has not looked since the records went live, though its look was due (its pass runs late)', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 10_000);
    schedule.checked('a', false, 1, 0, { waitingOnSes: true, identityCreatedAt: 0 });
    // At SES's expected look SES says it never looked (no LastCheckedTimestamp): one margin (10 % of 10 s) more, not a quarter period.
    const notYet = { waitingOnSes: true, sesRead: true };
    expect(schedule.checked('a', false, 1, 11_000, notYet)).toBe(1_000);
    // A look before the records went live (1 ms before the creation) is not the look it waits for.
    expect(schedule.checked('a', false, 1, 12_000, { ...notYet, sesLastCheckedAt: -1 })).toBe(1_000);
    // SES did look since (at 12.5 s) and still says pending: its next look, a period after that one.
    expect(schedule.checked('a', false, 1, 13_000, { ...notYet, sesLastCheckedAt: 12_500 })).toBe(10_500);
    // A check that did not read SES (the drift step had read it) cannot tell: the quarter-period pace.
    expect(schedule.checked('b', false, 1, 0, { waitingOnSes: true, identityCreatedAt: 0 })).toBe(11_000);
    expect(schedule.checked('b', false, 1, 11_000, waiting)).toBe(2_500);
  });

  it('looks again for a late SES no sooner than the budget allows over the whole wait: one floor per read since it began', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 10_000);
    const notYet = { waitingOnSes: true, sesRead: true };
    // One new setup among 10,000 verified: a floor of 2,667 ms per read. Its first read came at 11 s (4 floors in),
    // so the second may come one margin later, though the floor is longer than the margin.
    const one = { verified: 10_000, unverified: 1 };
    const floor = (1 / 0.375) * 1000;
    schedule.checked('new', false, one, 0, { waitingOnSes: true, identityCreatedAt: 0 });
    expect(schedule.checked('new', false, one, 11_000, notYet)).toBe(1_000);
    // Reads come faster than the floor only while the wait so far left it unspent: with four reads by 11 s, the next waits for 5 floors.
    expect(schedule.checked('new', false, one, 11_000, notYet)).toBe(1_000);
    expect(schedule.checked('new', false, one, 11_000, notYet)).toBe(1_000);
    expect(schedule.checked('new', false, one, 11_000, notYet)).toBe(Math.round(5 * floor - 11_000));
    // 1,000 setups waiting at once: never sooner than their floor per read.
    const many = { verified: 10_000, unverified: 1_000 };
    const manyFloor = (1_000 / 0.375) * 1000;
    schedule.checked('burst', false, many, 0, { waitingOnSes: true, identityCreatedAt: 0 });
    expect(schedule.checked('burst', false, many, 11_000, notYet)).toBe(Math.round(2 * manyFloor - 11_000));
  });

  it("plans a waiting first re-check again, sooner, once the estimate of SES's period falls (a long gap in its checks aged out)", () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    // A gap in SES's checks left 16.7 s in the estimate: the first re-check is planned for 16.7 s + 10 %.
    learnPeriod(schedule, 16_700);
    expect(schedule.checked('a', false, 1, 0, { waitingOnSes: true, identityCreatedAt: 0 })).toBe(18_370);
    schedule.checked('verified', true, 1, 0);
    expect(schedule.replanFirstLooks(() => 1, 1_000)).toEqual([]);
    // 32 answers later SES looks every 5 s again: SES's look at 'a' is due at 5 s, the re-check at 5.5 s.
    learnPeriod(schedule, 5_000, 32);
    expect(schedule.replanFirstLooks(() => 1, 3_000)).toEqual([{ name: 'a', delayMs: 2_500 }]);
    expect(schedule.isDue('a', false, 1, 5_499)).toBe(false);
    expect(schedule.isDue('a', false, 1, 5_500)).toBe(true);
    // Planned once for this estimate; a longer estimate never moves it later.
    expect(schedule.replanFirstLooks(() => 1, 3_000)).toEqual([]);
    learnPeriod(schedule, 20_000);
    expect(schedule.replanFirstLooks(() => 1, 3_000)).toEqual([]);
    expect(schedule.delayUntilNext('a', 3_000)).toBe(2_500);
    // Once its first re-check has run, what comes next is that check's to plan.
    learnPeriod(schedule, 5_000, 32);
    schedule.checked('a', false, 1, 5_500, { waitingOnSes: true, sesRead: true });
    learnPeriod(schedule, 1_000, 32);
    expect(schedule.replanFirstLooks(() => 1, 6_000)).toEqual([]);
  });

  it('plans a first re-check sooner no sooner than the budget allowed when it was planned', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 16_700);
    // One new setup among 10,000 verified: a floor of 2,667 ms from its check.
    const one = { verified: 10_000, unverified: 1 };
    schedule.checked('new', false, one, 0, { waitingOnSes: true, identityCreatedAt: 0 });
    learnPeriod(schedule, 2_000, 32);
    expect(schedule.replanFirstLooks(() => one, 1_000)).toEqual([{ name: 'new', delayMs: Math.round((1 / 0.375) * 1000) - 1_000 }]);
  });

  it('falls back to half the fast pace while SES has not told its period', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    expect(schedule.sesCheckPeriod.sampleCount).toBe(0);
    expect(schedule.checked('a', false, 1, 0, { waitingOnSes: true, identityCreatedAt: 0 })).toBe(5_500);
  });

  it("jitters the first re-check only later, never before SES's check", () => {
    for (const draw of [0, 0.5, 0.999]) {
      const schedule = new RecheckSchedule(settings, () => draw);
      learnPeriod(schedule, 10_000);
      const delay = schedule.checked('a', false, 1, 0, { waitingOnSes: true, identityCreatedAt: 0 });
      expect(delay).toBeGreaterThanOrEqual(11_000);
      expect(delay).toBeLessThanOrEqual(11_200);
    }
    // The fast pace keeps its jitter both ways.
    expect(new RecheckSchedule(settings, () => 0).checked('b', false, 1, 0)).toBe(9_000);
  });

  it('starts over when the records lapse or change, and forgets it all once verified', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 10_000);
    schedule.checked('a', false, 1, 0, { waitingOnSes: true, identityCreatedAt: 0 });
    // Lapsed, then live again at 40,000: a new anchor.
    schedule.checked('a', false, 1, 20_000);
    expect(schedule.checked('a', false, 1, 40_000, waiting)).toBe(11_000);
    schedule.restart('a');
    expect(schedule.checked('a', false, 1, 50_000, waiting)).toBe(11_000);
    schedule.checked('a', true, 1, 60_000);
    // Unverified again (a new identity, say): pending since this check.
    expect(schedule.checked('a', false, 1, 70_000, waiting)).toBe(11_000);
  });

  it('stays within the budget with many setups waiting: never sooner than the unverified class may go', () => {
    const schedule = new RecheckSchedule(settings, () => 0);
    learnPeriod(schedule, 10_000);
    // One new setup among 10,000 verified: the unverified budget is 0.375/s, so at least 2.67 s; the quarter period (2.5 s) is shorter.
    const one = { verified: 10_000, unverified: 1 };
    schedule.checked('new', false, one, 0, { waitingOnSes: true, identityCreatedAt: 0 });
    expect(schedule.checked('new', false, one, 11_000, waiting)).toBe(Math.round((1 / 0.375) * 1000));
    // 1,000 setups waiting at once: 1,000 / 0.375 per s, both before SES's check and after it.
    const many = { verified: 10_000, unverified: 1_000 };
    const floor = Math.round((1_000 / 0.375) * 1000);
    expect(schedule.checked('burst', false, many, 0, { waitingOnSes: true, identityCreatedAt: 0 })).toBe(floor);
    expect(schedule.checked('burst', false, many, 11_000, waiting)).toBe(floor);
  });
});

import { describe, expect, it } from 'vitest';
import { FaultInjector, InvalidFaultsError, NO_FAULTS, parseFaults, TokenBucket } from '../../../harness/simulator/faults.ts';

describe('TokenBucket', () => {
  it('allows a burst, then one call per 1/rate seconds', () => {
    let now = 0;
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 3 }, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    now = 499;
    expect(bucket.tryTake()).toBe(false);
    now = 500;
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });

  it('never holds more than the burst after a quiet spell', () => {
    let now = 0;
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2 }, () => now);
    now = 60_000;
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  });
});

describe('parseFaults', () => {
  it('fills left-out fields with "no fault" and defaults the burst to one second of rate', () => {
    expect(parseFaults({})).toEqual(NO_FAULTS);
    expect(parseFaults({ quota: { ratePerSecond: 2.5 }, latencyMs: 10 })).toEqual({ ...NO_FAULTS, quota: { ratePerSecond: 2.5, burst: 3 }, latencyMs: 10 });
    expect(parseFaults({ quota: { ratePerSecond: 0.2 } }).quota).toEqual({ ratePerSecond: 0.2, burst: 1 });
  });

  it.each([
    [[], 'faults must be a JSON object'],
    [{ throttleFraction: 1.01 }, 'throttleFraction must be a number from 0 to 1, got 1.01'],
    [{ errorFraction: '0.5' }, 'errorFraction must be a number from 0 to 1, got "0.5"'],
    [{ latencyMs: -5 }, 'latencyMs must be a number >= 0, got -5'],
    [{ quota: { ratePerSecond: 0 } }, 'quota.ratePerSecond must be a number > 0, got 0'],
    [{ quota: { ratePerSecond: 1, burst: 0 } }, 'quota.burst must be a whole number >= 1, got 0'],
    [{ quota: { ratePerSecond: 1, rate: 2 } }, 'unknown quota field "rate"'],
    [{ failNext: -1 }, 'failNext must be a whole number >= 0, got -1'],
    [{ surprise: 1 }, 'unknown fault "surprise"'],
  ])('rejects %j', (input, message) => {
    expect(() => parseFaults(input)).toThrow(InvalidFaultsError);
    expect(() => parseFaults(input)).toThrow(message);
  });
});

describe('FaultInjector', () => {
  const sequence =
    (...values: number[]) =>
    () =>
      values.shift() ?? 0.999;

  it('injects nothing by default', () => {
    const injector = new FaultInjector();
    expect(Array.from({ length: 100 }, () => injector.pick())).toEqual(Array(100).fill(undefined));
  });

  it('answers throttleNext, then failNext, before the quota and counts them down', () => {
    let now = 0;
    const injector = new FaultInjector({ ...NO_FAULTS, quota: { ratePerSecond: 1, burst: 1 }, throttleNext: 1, failNext: 1 }, { now: () => now });
    expect(injector.pick()).toMatchObject({ errorType: 'TooManyRequestsException', status: 429 });
    expect(injector.pick()).toMatchObject({ errorType: 'InternalFailure', status: 500 });
    expect(injector.pick()).toBeUndefined(); // the one token of the quota
    expect(injector.pick()).toMatchObject({ errorType: 'TooManyRequestsException', message: 'Rate exceeded' });
    now = 1_000;
    expect(injector.pick()).toBeUndefined();
    expect(injector.faults).toMatchObject({ throttleNext: 0, failNext: 0 });
  });

  it('throttles and fails the configured fractions of calls', () => {
    const injector = new FaultInjector({ ...NO_FAULTS, throttleFraction: 0.5, errorFraction: 0.5 }, { random: sequence(0.4, 0.6, 0.4, 0.6, 0.6) });
    expect(injector.pick()).toMatchObject({ errorType: 'TooManyRequestsException' }); // 0.4 < 0.5 throttles
    expect(injector.pick()).toMatchObject({ errorType: 'InternalFailure' }); // 0.6 passes throttling, 0.4 fails
    expect(injector.pick()).toBeUndefined(); // 0.6, 0.6
  });

  it('draws the same faults call by call for the same random seed, and the configured fractions over many calls', () => {
    const faults = { ...parseFaults({ throttleFraction: 0.3, errorFraction: 0.1, randomSeed: 14 }) };
    const answers = (injector: FaultInjector) => Array.from({ length: 2_000 }, () => injector.pick()?.errorType ?? 'ok');
    const first = answers(new FaultInjector(faults));
    expect(answers(new FaultInjector(faults))).toEqual(first);
    expect(answers(new FaultInjector({ ...faults, randomSeed: 15 }))).not.toEqual(first);
    // 30% throttled, then 10% of the rest failed: 37% in all.
    const share = (type: string) => first.filter((answer) => answer === type).length / first.length;
    expect(share('TooManyRequestsException')).toBeCloseTo(0.3, 1);
    expect(share('InternalFailure')).toBeCloseTo(0.07, 1);
    // Setting the same faults again starts the same sequence over.
    const injector = new FaultInjector(faults);
    answers(injector);
    injector.set(faults);
    expect(answers(injector)).toEqual(first);
  });

  it('gives out copies, so callers cannot change the faults in force', () => {
    const injector = new FaultInjector({ ...NO_FAULTS, quota: { ratePerSecond: 1, burst: 1 } });
    injector.faults.quota!.burst = 99;
    expect(injector.faults.quota).toEqual({ ratePerSecond: 1, burst: 1 });
  });
});

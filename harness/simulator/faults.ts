import { internalFailure, tooManyRequests, type SesApiError } from './errors.ts';

/** A request rate SES enforces per account; calls beyond it get 429 TooManyRequestsException. */
export interface Quota {
  ratePerSecond: number;
  /** Calls allowed at once after a quiet spell; defaults to one second's worth (at least 1). */
  burst: number;
}

export interface Faults {
  quota: Quota | null;
  /** Share of calls (0..1) answered 429 TooManyRequestsException at random, on top of the quota. */
  throttleFraction: number;
  /** Share of calls (0..1) answered 500 InternalFailure, which the SDK retries. */
  errorFraction: number;
  /** Added before every SES call is handled. */
  latencyMs: number;
  /** The next N SES calls answer 429 TooManyRequestsException: deterministic throttling for tests. */
  throttleNext: number;
  /** The next N SES calls answer 500 InternalFailure: a deterministic failure the SDK retries. */
  failNext: number;
  /**
   * Seeds the draws of throttleFraction and errorFraction, so a run sees the same sequence of faults
   * call by call (null: Math.random). A test comparing counts against a limit needs this: unseeded,
   * an unlucky run can draw far more faults than the fractions say.
   */
  randomSeed: number | null;
  /**
   * A new identity's first DKIM check comes no sooner than this long after its creation: SES's pass over
   * many identities reaching a new one late in it. A test aid; how late SES really is, is not documented.
   */
  firstDkimCheckDelayMs: number;
  /**
   * SES's background DKIM and MAIL FROM checks stall: no pass runs on its own while true (a pass asked
   * for through the control interface still does). A test aid; whether and how long SES pauses is not documented.
   */
  dkimChecksPaused: boolean;
}

export const NO_FAULTS: Faults = Object.freeze({
  quota: null,
  throttleFraction: 0,
  errorFraction: 0,
  latencyMs: 0,
  throttleNext: 0,
  failNext: 0,
  randomSeed: null,
  firstDkimCheckDelayMs: 0,
  dkimChecksPaused: false,
});

export class InvalidFaultsError extends Error {}

/** Reads fault settings from untrusted JSON; fields left out take their "no fault" value. */
export function parseFaults(input: unknown): Faults {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidFaultsError('faults must be a JSON object');
  }
  const value = input as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!(key in NO_FAULTS)) throw new InvalidFaultsError(`unknown fault "${key}": expected one of ${Object.keys(NO_FAULTS).join(', ')}`);
  }
  return {
    quota: parseQuota(value.quota),
    throttleFraction: fraction(value.throttleFraction, 'throttleFraction'),
    errorFraction: fraction(value.errorFraction, 'errorFraction'),
    latencyMs: nonNegative(value.latencyMs, 'latencyMs'),
    throttleNext: count(value.throttleNext, 'throttleNext'),
    failNext: count(value.failNext, 'failNext'),
    randomSeed: value.randomSeed === undefined || value.randomSeed === null ? null : count(value.randomSeed, 'randomSeed'),
    firstDkimCheckDelayMs: nonNegative(value.firstDkimCheckDelayMs, 'firstDkimCheckDelayMs'),
    dkimChecksPaused: flag(value.dkimChecksPaused, 'dkimChecksPaused'),
  };
}

/** mulberry32: a small, well-known 32-bit generator; enough to make fault draws repeatable. */
export function seededRandom(randomSeed: number): () => number {
  let state = randomSeed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseQuota(value: unknown): Quota | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidFaultsError('quota must be null or {ratePerSecond, burst?}');
  const { ratePerSecond, burst, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new InvalidFaultsError(`unknown quota field "${extra}"`);
  if (typeof ratePerSecond !== 'number' || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
    throw new InvalidFaultsError(`quota.ratePerSecond must be a number > 0, got ${JSON.stringify(ratePerSecond)}`);
  }
  if (burst === undefined) return { ratePerSecond, burst: Math.max(1, Math.ceil(ratePerSecond)) };
  if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1) {
    throw new InvalidFaultsError(`quota.burst must be a whole number >= 1, got ${JSON.stringify(burst)}`);
  }
  return { ratePerSecond, burst };
}

function fraction(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new InvalidFaultsError(`${name} must be a number from 0 to 1, got ${JSON.stringify(value)}`);
  return value;
}

function nonNegative(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidFaultsError(`${name} must be a number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidFaultsError(`${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function count(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidFaultsError(`${name} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The classic token bucket: `burst` tokens, refilled continuously at `ratePerSecond`. */
export class TokenBucket {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #lastRefill: number;

  constructor(quota: Quota, now: () => number = () => performance.now()) {
    this.#ratePerSecond = quota.ratePerSecond;
    this.#burst = quota.burst;
    this.#now = now;
    this.#tokens = quota.burst;
    this.#lastRefill = now();
  }

  /** Takes one token if there is one; never waits. */
  tryTake(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#lastRefill) / 1000) * this.#ratePerSecond);
    this.#lastRefill = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Decides, call by call, which injected fault (if any) answers instead of the real operation. */
export class FaultInjector {
  #faults: Faults = NO_FAULTS;
  #bucket: TokenBucket | undefined;
  readonly #now: () => number;
  readonly #unseeded: () => number;
  #random: () => number;

  constructor(initial: Faults = NO_FAULTS, options: { now?: () => number; random?: () => number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#unseeded = options.random ?? Math.random;
    this.#random = this.#unseeded;
    this.set(initial);
  }

  get faults(): Faults {
    return structuredClone(this.#faults);
  }

  /** Replaces every fault setting; a new quota starts with a full bucket. */
  set(faults: Faults): void {
    this.#faults = structuredClone(faults);
    this.#bucket = faults.quota ? new TokenBucket(faults.quota, this.#now) : undefined;
    this.#random = typeof faults.randomSeed === 'number' ? seededRandom(faults.randomSeed) : this.#unseeded;
  }

  /**
   * The error to answer this call with, or undefined to run it. The "next N calls" faults come
   * first (they are what a test asked for), then the quota, as SES throttles before doing work.
   */
  pick(): SesApiError | undefined {
    return this.pickNext() ?? this.pickRate();
  }

  /** Only the "next N calls" faults, counting them down. */
  pickNext(): SesApiError | undefined {
    if (this.#faults.throttleNext > 0) {
      this.#faults.throttleNext -= 1;
      return tooManyRequests('Rate exceeded (injected throttling)');
    }
    if (this.#faults.failNext > 0) {
      this.#faults.failNext -= 1;
      return internalFailure();
    }
    return undefined;
  }

  /** Only the quota and the random faults. */
  pickRate(): SesApiError | undefined {
    if (this.#bucket && !this.#bucket.tryTake()) return tooManyRequests('Rate exceeded');
    if (this.#faults.throttleFraction > 0 && this.#random() < this.#faults.throttleFraction) return tooManyRequests('Rate exceeded (injected throttling)');
    if (this.#faults.errorFraction > 0 && this.#random() < this.#faults.errorFraction) return internalFailure();
    return undefined;
  }
}

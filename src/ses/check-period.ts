import type { SesGateway, SesIdentity } from './gateway.ts';

/** DKIM statuses SES keeps checking: only for these does LastCheckedTimestamp say how long ago SES last looked. */
const CHECKED_STATUSES = new Set(['PENDING', 'SUCCESS', 'TEMPORARY_FAILURE']);

export interface SesCheckPeriodOptions {
  /** The estimate while too few answers have been seen. */
  fallbackMs: number;
  /** How many recent samples the estimate is taken over. */
  window?: number;
  /** Samples needed before the estimate may go below the fallback. */
  trustedAfter?: number;
}

/**
 * Samples kept. A count, not a time span: the window's size and cost stay fixed whether answers come
 * several a second (a burst of new setups) or a few an hour (a small steady cluster). Small enough
 * that a longer gap in SES's checks (its pass growing with the account, or a pause) ages out within
 * minutes at thousands of setups; large enough that the largest age falls short of the period by
 * about 1/33 of it, inside the re-check's margin.
 */
const WINDOW = 32;
/**
 * Each sample's age is uniform over SES's period, so the maximum of n of them falls short of the
 * period by about period / (n + 1); with fewer than this many the fallback stays a lower bound.
 */
const TRUSTED_AFTER = 16;

/**
 * How often SES checks an identity's DKIM records, as the operator can tell from SES's own answers:
 * each GetEmailIdentity's LastCheckedTimestamp, subtracted from when the answer arrived, is how long
 * ago SES last looked, which is never more than SES's period. The largest recent age is the estimate.
 */
export class SesCheckPeriod {
  readonly #options: Required<SesCheckPeriodOptions>;
  readonly #samples: number[] = [];
  #oldest = 0;

  constructor(options: SesCheckPeriodOptions) {
    this.#options = { window: WINDOW, trustedAfter: TRUSTED_AFTER, ...options };
  }

  /** One GetEmailIdentity answer, arrived at `answeredAt` (ms since the epoch). */
  observe(identity: Pick<SesIdentity, 'dkimStatus' | 'lastCheckedAt'>, answeredAt: number): void {
    if (identity.lastCheckedAt === undefined || !CHECKED_STATUSES.has(identity.dkimStatus ?? '')) return;
    // A clock behind SES's would give a negative age: it says only that SES looked very recently.
    const age = Math.max(0, answeredAt - identity.lastCheckedAt);
    if (this.#samples.length < this.#options.window) {
      this.#samples.push(age);
    } else {
      this.#samples[this.#oldest] = age;
      this.#oldest = (this.#oldest + 1) % this.#options.window;
    }
  }

  get sampleCount(): number {
    return this.#samples.length;
  }

  /** SES's period: the longest recent age, at least the fallback until enough samples say otherwise. */
  estimateMs(): number {
    const { fallbackMs, trustedAfter } = this.#options;
    if (this.#samples.length === 0) return fallbackMs;
    const longest = Math.max(...this.#samples);
    return this.#samples.length < trustedAfter ? Math.max(longest, fallbackMs) : longest;
  }
}

/**
 * The gateway, every GetEmailIdentity answer of which also feeds `period` (then `observed` runs: what
 * was planned with the estimate may be planned again); every other call passes through unchanged.
 */
export function observingCheckPeriod(gateway: SesGateway, period: SesCheckPeriod, now: () => number = Date.now, observed?: () => void): SesGateway {
  const getEmailIdentity: SesGateway['getEmailIdentity'] = async (...args) => {
    const identity = await gateway.getEmailIdentity(...args);
    if (identity) {
      period.observe(identity, now());
      observed?.();
    }
    return identity;
  };
  return new Proxy(gateway, {
    get(target, key) {
      if (key === 'getEmailIdentity') return getEmailIdentity;
      const value: unknown = Reflect.get(target, key, target);
      // Bound to the gateway itself: its methods may use private fields, which a proxy as `this` lacks.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

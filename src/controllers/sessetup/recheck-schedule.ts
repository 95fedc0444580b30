import { SesCheckPeriod } from '../../ses/check-period.ts';

export interface RecheckSettings {
  /** First re-check delay while something is unverified; doubles per check up to fastMaxMs. */
  fastMs: number;
  fastMaxMs: number;
  /** Re-check interval once everything is verified. */
  slowMs: number;
  /** The SES budget (requests/s) and the share of it scheduled re-checks may use. */
  sesRatePerSecond: number;
  budgetShare: number;
}

export const DEFAULT_RECHECK: RecheckSettings = {
  fastMs: 10_000,
  fastMaxMs: 5 * 60_000,
  slowMs: 60 * 60_000,
  sesRatePerSecond: 1,
  budgetShare: 0.5,
};

/**
 * SES calls one scheduled check costs: a fast check at most one GetEmailIdentity; a slow check of
 * a verified setup also reads back what it owns (GetTenant, ListResourceTenants: the drift step).
 */
export const SES_CALLS_PER_CHECK = { verified: 3, unverified: 1 } as const;

/** What a check saw besides verified or not. */
export interface CheckSeen {
  /** Unverified, but every DKIM CNAME is live: only SES's own check is left. */
  waitingOnSes?: boolean;
  /** Set by the check that created the identity (ms since the epoch): that check did not read SES's view. */
  identityCreatedAt?: number;
  /** When SES last checked this identity's records, if this check read SES's view and SES said (ms since the epoch). */
  sesLastCheckedAt?: number;
  /** This check read SES's view of the identity (GetEmailIdentity): with no sesLastCheckedAt, SES has not looked yet. */
  sesRead?: boolean;
  /**
   * Records are missing and external-dns has not read the DNSEndpoint holding them yet: it cannot have
   * published them. Its reading wakes the setup (restart); until then at most one look per PUBLISHER_WAIT_MS.
   */
  publisherUnread?: boolean;
}

/** The longest wait for external-dns to read a DNSEndpoint before looking anyway (one that cannot write its status never says). */
export const PUBLISHER_WAIT_MS = 15_000;

/**
 * The first re-check waiting on SES comes this share of SES's period after SES's expected check: the
 * period is the largest of a few ages, a little short of the real one, and SES's pass is not exact:
 * a pass over thousands of identities takes time, and a new identity may come late in it. A re-check
 * just too early costs a further wait of the budget's pace (seconds at thousands of setups).
 */
const WAITING_MARGIN_SHARE = 0.1;
const WAITING_MARGIN_MIN_MS = 10;

const marginOf = (periodMs: number) => Math.max(WAITING_MARGIN_MIN_MS, WAITING_MARGIN_SHARE * periodMs);

/** A first re-check after SES's expected look, as planned: SES's look is expected one period after lookedFrom. */
interface FirstLook {
  lookedFrom: number;
  periodMs: number;
  checkedAt: number;
  /** The plan's jitter draw (0..1), kept so that planning again does not draw anew. */
  jitter: number;
}

/** When that re-check comes with SES's period at periodMs: one margin after SES's expected look, jittered only later. */
const firstLookAt = (look: FirstLook, periodMs: number) => look.lookedFrom + periodMs + marginOf(periodMs) * (1 + 0.2 * look.jitter);

/** The part of the re-check budget kept for verified setups however many unverified ones there are. */
const VERIFIED_RESERVE = 0.25;

/**
 * How many setups share the re-check budget: a plain number counts them all in the class of the
 * setup at hand; the split lets new setups keep their fast re-checks beside thousands of verified ones.
 */
export type Population = number | { verified: number; unverified: number };

/**
 * When each setup is checked next: fast with backoff while anything is unverified, slow once all
 * is verified, and never faster than the SES budget allows for the whole population (each check
 * costs SES_CALLS_PER_CHECK), so re-checks can't starve creations or trip SES throttling.
 * When the population wants more than the budget, intervals stretch, unverified setups last (see #budgetFloor).
 */
export class RecheckSchedule {
  readonly #settings: RecheckSettings;
  readonly #next = new Map<string, number>();
  readonly #fastAttempts = new Map<string, number>();
  /** Unverified since: the identity's creation when this process created it, else the first check that found it unverified. */
  readonly #pendingSince = new Map<string, number>();
  /** The first check that found every DKIM CNAME live (while SES still had not verified them). */
  readonly #liveSince = new Map<string, number>();
  /** SES reads (GetEmailIdentity) by the checks since pendingSince: the budget counted over the whole wait. */
  readonly #sesReads = new Map<string, number>();
  /** Setups whose re-check just after SES's expected look is still ahead: what it was planned from, to plan it again. */
  readonly #firstLooks = new Map<string, FirstLook>();
  readonly #random: () => number;
  /** SES's DKIM check period, learned from its answers (see observingCheckPeriod). */
  readonly sesCheckPeriod: SesCheckPeriod;

  constructor(settings: RecheckSettings, random: () => number = Math.random) {
    this.#settings = settings;
    this.#random = random;
    // Until SES's answers tell, assume it checks twice as often as the fast pace.
    this.sesCheckPeriod = new SesCheckPeriod({ fallbackMs: settings.fastMs / 2 });
  }

  /** True when a scheduled check is due; a setup never seen is due if unverified, else spread over the slow interval. */
  isDue(name: string, verified: boolean, population: Population, now: number): boolean {
    let next = this.#next.get(name);
    if (next === undefined) {
      // First sight (e.g. after a restart): spread verified setups out instead of checking them all at once.
      next = verified ? now + this.#random() * this.slowIntervalMs(population) : now;
      this.#next.set(name, next);
    }
    return now >= next;
  }

  /**
   * Records a check and returns the delay until the next one. `seen.waitingOnSes`: unverified, but
   * every DKIM CNAME is live and SES alone has yet to see it; `seen.identityCreatedAt`: this very
   * check's reconcile created the identity then (and so did not read SES's view).
   */
  checked(name: string, verified: boolean, population: Population, now: number, seen: CheckSeen = {}): number {
    let delay: number;
    // Each check plans the next afresh.
    this.#firstLooks.delete(name);
    if (verified) {
      this.#forgetPending(name);
      delay = this.slowIntervalMs(population) * this.#jitter();
    } else {
      if (seen.identityCreatedAt !== undefined) this.#pendingSince.set(name, seen.identityCreatedAt);
      else if (!this.#pendingSince.has(name)) this.#pendingSince.set(name, now);
      if (seen.sesRead) this.#sesReads.set(name, (this.#sesReads.get(name) ?? 0) + 1);
      if (seen.waitingOnSes) {
        // Live at the first look after this process created the identity: only SES and this reconcile
        // knew its tokens, so the records were published before (their names were known in advance).
        if (!this.#liveSince.has(name)) this.#liveSince.set(name, seen.identityCreatedAt ?? now);
      } else {
        this.#liveSince.delete(name);
      }
      const waiting = seen.waitingOnSes ? this.#waitingOnSesDelay(name, population, now, seen) : undefined;
      delay = waiting ?? this.#fastDelay(name, population);
      if (seen.publisherUnread && !seen.waitingOnSes) delay = Math.max(delay, PUBLISHER_WAIT_MS * this.#jitter());
    }
    delay = Math.round(delay);
    this.#next.set(name, now + delay);
    return delay;
  }

  /**
   * Only SES's own DKIM check is left. SES looks again one period after it last looked at this
   * identity, when its answer says so; else within a period of the anchor (the later of the
   * identity's creation or first sight, and the first look that saw every CNAME live). One re-check
   * just after that, then a steady pace until the anchor + 2 periods, in case SES's pass reached
   * this identity late; after that (undefined) the fast backoff resumes. Never sooner than the
   * budget allows, never later than --recheck-fast-max.
   */
  #waitingOnSesDelay(name: string, population: Population, now: number, seen: CheckSeen): number | undefined {
    const period = this.sesCheckPeriod.estimateMs();
    const margin = marginOf(period);
    const anchor = Math.max(this.#pendingSince.get(name)!, this.#liveSince.get(name)!);
    const floor = this.#budgetFloor(population, false);
    const within = (delay: number, atLeast = floor) => Math.max(Math.min(delay, this.#settings.fastMaxMs), atLeast);
    // SES's clock ahead of this one must not push the re-check past SES's next look.
    const lookedFrom = seen.sesLastCheckedAt === undefined ? anchor : Math.min(seen.sesLastCheckedAt, now);
    const firstRecheck = lookedFrom + period + margin;
    if (now < firstRecheck) {
      // Jitter only later: a re-check just before SES's check costs a call and a whole further delay.
      const look: FirstLook = { lookedFrom, periodMs: period, checkedAt: now, jitter: this.#random() };
      this.#firstLooks.set(name, look);
      return within(firstLookAt(look, period) - now);
    }
    // A creation slower than SES's period: SES has likely verified already, and this check did not ask.
    if (seen.identityCreatedAt !== undefined) return 0;
    if (now >= anchor + 2 * period + margin) return undefined;
    if (seen.sesRead && !(seen.sesLastCheckedAt !== undefined && seen.sesLastCheckedAt >= anchor)) {
      // SES's look was due and it has not looked since the records went live: its pass runs late (a pass over
      // thousands of identities takes time, and a new identity may come last). One margin more, as soon as the
      // budget allows over the whole wait (the next read no sooner than one floor per read since it began).
      const allowedAt = this.#pendingSince.get(name)! + ((this.#sesReads.get(name) ?? 0) + 1) * floor;
      return within(margin * (1 + 0.2 * this.#random()), allowedAt - now);
    }
    return within((period / 4) * (1 + 0.1 * this.#random()));
  }

  /** While records are missing a person has to publish them: backoff from fastMs, doubling per check. */
  #fastDelay(name: string, population: Population): number {
    const attempt = this.#fastAttempts.get(name) ?? 0;
    this.#fastAttempts.set(name, attempt + 1);
    const fast = Math.min(this.#settings.fastMs * 2 ** attempt, this.#settings.fastMaxMs);
    return Math.max(fast, this.#budgetFloor(population, false)) * this.#jitter();
  }

  /** +-10 %, so setups created together do not stay in step. */
  #jitter(): number {
    return 0.9 + 0.2 * this.#random();
  }

  #forgetPending(name: string): void {
    this.#fastAttempts.delete(name);
    this.#pendingSince.delete(name);
    this.#sesReads.delete(name);
    this.#liveSince.delete(name);
    this.#firstLooks.delete(name);
  }

  /**
   * SES's period, as estimated now, is shorter than the one a waiting setup's first re-check was
   * planned with (the estimate held a long gap in SES's checks, which has since aged out): that
   * re-check comes sooner, as planned with the estimate of now, never sooner than the budget allowed
   * when it was planned. Returns the setups whose next check moved, with the delay until it.
   */
  replanFirstLooks(population: () => Population, now: number): { name: string; delayMs: number }[] {
    if (this.#firstLooks.size === 0) return [];
    const period = this.sesCheckPeriod.estimateMs();
    const moved: { name: string; delayMs: number }[] = [];
    let floor: number | undefined;
    for (const [name, look] of this.#firstLooks) {
      if (period >= look.periodMs) continue;
      floor ??= this.#budgetFloor(population(), false);
      const at = Math.round(Math.max(firstLookAt(look, period), look.checkedAt + floor));
      look.periodMs = period;
      const next = this.#next.get(name);
      if (next === undefined || at >= next) continue;
      this.#next.set(name, at);
      moved.push({ name, delayMs: Math.max(0, at - now) });
    }
    return moved;
  }

  /** Time until the next check (0 when due). */
  delayUntilNext(name: string, now: number): number | undefined {
    const next = this.#next.get(name);
    return next === undefined ? undefined : Math.max(0, next - now);
  }

  /** Makes the next isDue true at once: a check whose result could not be stored must run again. */
  dueNow(name: string): void {
    this.#next.set(name, 0);
  }

  /** Due now, and the fast backoff starts over: the records just changed in DNS (external-dns took them), so the next checks come quickly. */
  restart(name: string): void {
    this.dueNow(name);
    this.#fastAttempts.delete(name);
    // New records: SES's wait counts from when these are seen live.
    this.#liveSince.delete(name);
  }

  /**
   * How long to wait before trying again what only a person can fix outside the cluster (an IAM
   * policy): the fast maximum, or the slow interval if that is shorter.
   */
  slowRetryMs(): number {
    return Math.min(this.#settings.fastMaxMs, this.#settings.slowMs);
  }

  forget(name: string): void {
    this.#next.delete(name);
    this.#forgetPending(name);
  }

  /** How often a verified setup is re-checked (before jitter) among this population: the slow interval, or longer when the budget says so. */
  slowIntervalMs(population: Population): number {
    return Math.max(this.#settings.slowMs, this.#budgetFloor(population, true));
  }

  /**
   * The shortest interval the budget (share x rate) allows a setup of this class. Unverified setups
   * come first, since someone is waiting for them: they may use all of the budget except a reserve
   * that keeps verified re-checks going (a quarter, or less if the verified ones want less). Verified
   * setups get what the unverified ones leave. 10,000 verified setups at 1 request/s therefore do not
   * push a new setup's first re-check out (it stays at fastMs), and neither class alone can exceed
   * the budget: each class's wanted rate (count / its base interval) is an upper bound on its use.
   */
  #budgetFloor(population: Population, verified: boolean): number {
    const { slowMs, fastMs } = this.#settings;
    const counts = typeof population === 'number' ? { verified: verified ? population : 0, unverified: verified ? 0 : population } : population;
    const budgetPerMs = (this.#settings.sesRatePerSecond * this.#settings.budgetShare) / 1000;
    const verifiedCalls = counts.verified * SES_CALLS_PER_CHECK.verified;
    const unverifiedCalls = counts.unverified * SES_CALLS_PER_CHECK.unverified;
    const verifiedWanted = verifiedCalls / slowMs;
    const unverifiedWanted = unverifiedCalls / fastMs;
    const unverifiedBudget = budgetPerMs - Math.min(verifiedWanted, budgetPerMs * VERIFIED_RESERVE);
    if (!verified) return unverifiedCalls / unverifiedBudget;
    return verifiedCalls / (budgetPerMs - Math.min(unverifiedWanted, unverifiedBudget));
  }
}

import { Resolver } from 'node:dns/promises';
import type { IdentityRecord, MailFromRecord, SimulatorAccount } from './state.ts';
import { advance, isChecked } from './verification.ts';

export interface DkimCheckerOptions {
  account: SimulatorAccount;
  /** "host:port" (or "[v6]:port") of the DNS servers to ask; empty means the system's resolvers. */
  dnsServers: string[];
  /** How often identities are checked, as SES re-checks DNS in the background. */
  intervalMs: number;
  /** Unverified this long after creation, or after a lapse from SUCCESS, is FAILED (SES: 72 hours). */
  failureAfterMs: number;
  /** Per DNS query. */
  queryTimeoutMs?: number;
  now?: () => number;
  /** A new identity's first DKIM check no sooner than this long after its creation (the fault of that name). */
  firstCheckDelayMs?: () => number;
  /** While true, the background passes do not run (the fault dkimChecksPaused); checkNow still does. */
  paused?: () => boolean;
  /** Called when a check pass itself breaks (not when DNS merely lacks a record). */
  onError?: (error: unknown) => void;
}

type DnsError = 'HOST_NOT_FOUND' | 'TYPE_NOT_FOUND' | 'INVALID_VALUE' | 'DNS_SERVER_ERROR';
type CheckOutcome = { verified: true } | { verified: false; error: DnsError };

/** The SPF record SES asks for on a custom MAIL FROM domain. */
export const MAIL_FROM_SPF = 'v=spf1 include:amazonses.com ~all';
/** The MX host SES asks for on a custom MAIL FROM domain, in the identity's region. */
export const mailFromMxHost = (region: string) => `feedback-smtp.${region}.amazonses.com`;

/** Identities checked at once: enough to keep a pass short, few enough not to flood the DNS server. */
const CONCURRENCY = 32;

/**
 * Checks DNS the way SES does, in every region: Easy DKIM (three `<token>._domainkey.<domain>`
 * CNAMEs pointing to `<token>.<SigningHostedZone>`) and custom MAIL FROM domains (MX to
 * `feedback-smtp.<region>.amazonses.com` and the SPF TXT). Verified records keep being checked,
 * so a lapse shows as TEMPORARY_FAILURE and, if it lasts, FAILED (see verification.ts).
 */
export class DkimChecker {
  readonly #options: DkimCheckerOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: DkimCheckerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // Fails now, not on the first pass, when a server address is malformed.
    this.#newResolver();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running) return; // a slow pass is still going: skip a beat rather than pile up
      if (this.#options.paused?.()) return;
      this.checkNow().catch((error: unknown) => this.#options.onError?.(error));
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Runs a full pass after any pass in progress, so it sees DNS as it is now. */
  checkNow(): Promise<void> {
    const previous = this.#running ?? Promise.resolve();
    const pass = previous.catch(() => {}).then(() => this.#pass());
    this.#running = pass;
    const clear = () => {
      if (this.#running === pass) this.#running = undefined;
    };
    pass.then(clear, clear);
    return pass;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  async #pass(): Promise<void> {
    const { account } = this.#options;
    // A fresh resolver per pass: no answer cached from an earlier pass hides a record published since.
    const resolver = this.#newResolver();
    const due = [...account.identities()].filter((identity) => dkimDue(identity) || mailFromDue(identity.mailFrom));
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const identity = due[next++]!;
        await Promise.all([this.#checkDkim(resolver, identity), this.#checkMailFrom(resolver, identity)]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker));
  }

  async #checkDkim(resolver: Resolver, identity: IdentityRecord): Promise<void> {
    if (!dkimDue(identity) || this.#heldBack(identity)) return;
    const before = identity.dkim.status;
    const zone = identity.dkim.signingHostedZone;
    const outcome = firstFailure(
      await Promise.all(identity.dkim.tokens.map((token) => expectName(resolver.resolveCname(`${token}._domainkey.${identity.name}`), `${token}.${zone}`))),
    );
    // Deleted, re-created or changed while DNS answered: the outcome is stale.
    if (!this.#options.account.isCurrent(identity) || identity.dkim.status !== before) return;
    const now = this.#now();
    const next = advance({ status: before, startedAt: identity.createdAt, lapsedAt: identity.lapsedAt }, outcome.verified, now, this.#options.failureAfterMs);
    identity.lastCheckedAt = now;
    identity.dkim.status = next.status;
    identity.verificationStatus = next.status;
    if (next.lapsedAt === undefined) delete identity.lapsedAt;
    else identity.lapsedAt = next.lapsedAt;
    if (outcome.verified) {
      identity.lastSuccessAt = now;
      identity.firstSuccessAt ??= now;
      delete identity.verificationError;
    } else {
      identity.verificationError = outcome.error;
    }
  }

  #heldBack(identity: IdentityRecord): boolean {
    const delay = this.#options.firstCheckDelayMs?.() ?? 0;
    return identity.lastCheckedAt === undefined && this.#now() - identity.createdAt < delay;
  }

  async #checkMailFrom(resolver: Resolver, identity: IdentityRecord): Promise<void> {
    const mailFrom = identity.mailFrom;
    if (!mailFromDue(mailFrom)) return;
    const before = mailFrom.status;
    const mxHost = mailFromMxHost(identity.region);
    const outcome = firstFailure(
      await Promise.all([
        expectName(
          resolver.resolveMx(mailFrom.domain).then((answers) => answers.map((answer) => answer.exchange)),
          mxHost,
        ),
        expectTxt(resolver.resolveTxt(mailFrom.domain), MAIL_FROM_SPF),
      ]),
    );
    if (!this.#options.account.isCurrent(identity) || identity.mailFrom !== mailFrom || mailFrom.status !== before) return;
    const next = advance(
      { status: before, startedAt: mailFrom.setAt, lapsedAt: mailFrom.lapsedAt },
      outcome.verified,
      this.#now(),
      this.#options.failureAfterMs,
    );
    mailFrom.status = next.status as MailFromRecord['status'];
    if (next.lapsedAt === undefined) delete mailFrom.lapsedAt;
    else mailFrom.lapsedAt = next.lapsedAt;
  }

  #newResolver(): Resolver {
    const resolver = new Resolver({ timeout: this.#options.queryTimeoutMs ?? 1_000, tries: 2 });
    if (this.#options.dnsServers.length > 0) resolver.setServers(this.#options.dnsServers);
    return resolver;
  }
}

function dkimDue(identity: IdentityRecord): boolean {
  return identity.type === 'DOMAIN' && isChecked(identity.dkim.status);
}

function mailFromDue(mailFrom: MailFromRecord | undefined): mailFrom is MailFromRecord {
  return mailFrom !== undefined && isChecked(mailFrom.status);
}

function firstFailure(outcomes: CheckOutcome[]): CheckOutcome {
  return outcomes.find((outcome) => !outcome.verified) ?? { verified: true };
}

/** Verified when one of the names answered is `expected` (case-insensitive, trailing dot ignored). */
async function expectName(answers: Promise<string[]>, expected: string): Promise<CheckOutcome> {
  return dnsOutcome(answers, (names) => names.some((name) => normalizeName(name) === normalizeName(expected)));
}

/** Verified when one TXT record, its strings joined, is `expected`. */
async function expectTxt(answers: Promise<string[][]>, expected: string): Promise<CheckOutcome> {
  return dnsOutcome(answers, (records) => records.some((strings) => strings.join('').trim() === expected));
}

async function dnsOutcome<T>(answers: Promise<T>, isExpected: (value: T) => boolean): Promise<CheckOutcome> {
  try {
    return isExpected(await answers) ? { verified: true } : { verified: false, error: 'INVALID_VALUE' };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOTFOUND') return { verified: false, error: 'HOST_NOT_FOUND' };
    if (code === 'ENODATA') return { verified: false, error: 'TYPE_NOT_FOUND' };
    return { verified: false, error: 'DNS_SERVER_ERROR' };
  }
}

/** DNS names compare case-insensitively and without the trailing dot. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

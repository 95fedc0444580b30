import { Resolver } from 'node:dns/promises';
import type { IdentityRecord, SimulatorState } from './state.ts';

export interface DkimCheckerOptions {
  state: SimulatorState;
  /** "host:port" (or "[v6]:port") of the DNS servers to ask; empty means the system's resolvers. */
  dnsServers: string[];
  /** How often pending identities are checked, as SES re-checks DNS in the background. */
  intervalMs: number;
  /** A domain still unverified this long after creation is FAILED (SES: 72 hours). */
  failureAfterMs: number;
  /** Per DNS query. */
  queryTimeoutMs?: number;
  now?: () => number;
  /** Called when a check pass itself breaks (not when DNS merely lacks a record). */
  onError?: (error: unknown) => void;
}

type CheckOutcome = { verified: true } | { verified: false; error: 'HOST_NOT_FOUND' | 'TYPE_NOT_FOUND' | 'INVALID_VALUE' | 'DNS_SERVER_ERROR' };

/** Identities checked at once: enough to keep a pass short, few enough not to flood the DNS server. */
const CONCURRENCY = 32;

/**
 * Verifies Easy DKIM the way SES does: a domain identity is PENDING until its three
 * `<token>._domainkey.<domain>` CNAMEs point to `<token>.<SigningHostedZone>`, then SUCCESS;
 * FAILED if that has not happened within the failure window.
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
    const { state } = this.#options;
    // A fresh resolver per pass: no answer cached from an earlier pass hides a record published since.
    const resolver = this.#newResolver();
    const pending = [...state.identities.values()].filter((identity) => identity.type === 'DOMAIN' && identity.dkim.status === 'PENDING');
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const identity = pending[next++]!;
        const outcome = await this.#check(resolver, identity);
        // Deleted, re-created or settled while DNS answered: the outcome is stale.
        if (state.getIdentity(identity.name) !== identity || identity.dkim.status !== 'PENDING') continue;
        this.#apply(identity, outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, pending.length) }, worker));
  }

  async #check(resolver: Resolver, identity: IdentityRecord): Promise<CheckOutcome> {
    const zone = identity.dkim.signingHostedZone;
    const outcomes = await Promise.all(
      identity.dkim.tokens.map(async (token): Promise<CheckOutcome> => {
        try {
          const answers = await resolver.resolveCname(`${token}._domainkey.${identity.name}`);
          const expected = normalizeName(`${token}.${zone}`);
          return answers.some((answer) => normalizeName(answer) === expected) ? { verified: true } : { verified: false, error: 'INVALID_VALUE' };
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === 'ENOTFOUND') return { verified: false, error: 'HOST_NOT_FOUND' };
          if (code === 'ENODATA') return { verified: false, error: 'TYPE_NOT_FOUND' };
          return { verified: false, error: 'DNS_SERVER_ERROR' };
        }
      }),
    );
    return outcomes.find((outcome) => !outcome.verified) ?? { verified: true };
  }

  #apply(identity: IdentityRecord, outcome: CheckOutcome): void {
    const now = this.#now();
    identity.lastCheckedAt = now;
    if (outcome.verified) {
      identity.dkim.status = 'SUCCESS';
      identity.verificationStatus = 'SUCCESS';
      identity.lastSuccessAt = now;
      delete identity.verificationError;
      return;
    }
    identity.verificationError = outcome.error;
    if (now - identity.createdAt >= this.#options.failureAfterMs) {
      identity.dkim.status = 'FAILED';
      identity.verificationStatus = 'FAILED';
    }
  }

  #newResolver(): Resolver {
    const resolver = new Resolver({ timeout: this.#options.queryTimeoutMs ?? 1_000, tries: 2 });
    if (this.#options.dnsServers.length > 0) resolver.setServers(this.#options.dnsServers);
    return resolver;
  }
}

/** DNS names compare case-insensitively and without the trailing dot. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

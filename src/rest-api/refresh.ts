import { randomBytes } from 'node:crypto';
import type { SesSetup } from '../api/sessetup.ts';
import type { SetupCache } from './setup-cache.ts';

export interface RefreshOutcome {
  setup: SesSetup;
  refreshed: boolean;
  notice: string | null;
}

/**
 * Live checks on demand: asks the operator for one through the verify annotation (the leader's
 * reconciler runs it, within the same SES rate limit as everything else) and waits, bounded, until
 * status.lastHandledVerifyRequest echoes the request. Concurrent refreshes of one setup share one
 * check; a refresh that runs out of time answers with the last result and says so.
 */
export class RefreshCoordinator {
  readonly #cache: SetupCache;
  readonly #requestCheck: (setup: SesSetup, request: string) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #inflight = new Map<string, Promise<RefreshOutcome>>();

  constructor(options: { cache: SetupCache; requestCheck: (setup: SesSetup, request: string) => Promise<void>; timeoutMs: number }) {
    this.#cache = options.cache;
    this.#requestCheck = options.requestCheck;
    this.#timeoutMs = options.timeoutMs;
  }

  /** In-flight checks right now (one per setup at most). */
  get inflight(): number {
    return this.#inflight.size;
  }

  refresh(setup: SesSetup): Promise<RefreshOutcome> {
    const key = `${setup.metadata.name}@${setup.metadata.uid}`;
    const running = this.#inflight.get(key);
    if (running) return running;
    const started = this.#run(setup).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, started);
    return started;
  }

  async #run(setup: SesSetup): Promise<RefreshOutcome> {
    const name = setup.metadata.name;
    if (setup.metadata.deletionTimestamp) {
      return { setup, refreshed: false, notice: 'the setup is being deleted: no live check was run; this is the last result' };
    }
    const request = `api-${new Date().toISOString()}-${randomBytes(4).toString('hex')}`;
    const wait = this.#cache.waitFor(name, (s) => s === undefined || s.status?.lastHandledVerifyRequest === request, this.#timeoutMs);
    try {
      await this.#requestCheck(setup, request);
    } catch (error) {
      wait.cancel();
      throw error;
    }
    const fresh = await wait.done;
    if (fresh) return { setup: fresh, refreshed: true, notice: null };
    const latest = this.#cache.get(name) ?? setup;
    const checked = latest.status?.dnsCheckedAt ? `the check of ${latest.status.dnsCheckedAt}` : 'no check has finished yet';
    return {
      setup: latest,
      refreshed: false,
      notice: `the live check did not finish within ${this.#timeoutMs / 1000}s; this is the last known result (${checked}); ask again later`,
    };
  }
}

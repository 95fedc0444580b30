import { Resolver } from 'node:dns/promises';

/** Why a lookup gave no answer, in the words a person fixing DNS needs. */
export type LookupFailure = 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'TIMEOUT' | 'REFUSED' | 'UNREACHABLE' | 'ERROR';

export type LookupResult = { ok: true; answers: string[] } | { ok: false; failure: LookupFailure; detail: string };

export interface LookupOptions {
  /** Ends the lookup when aborted: it then rejects with the signal's reason (an abort is not a DNS answer). */
  signal?: AbortSignal;
}

/** Live DNS lookups; answers come back normalized (lower case, no trailing dot; MX as "<preference> <host>"; TXT strings joined). */
export interface DnsLookup {
  lookup(type: 'CNAME' | 'MX' | 'TXT', name: string, options?: LookupOptions): Promise<LookupResult>;
}

export interface ResolverOptions {
  /** host:port list; empty means the system resolver configuration. */
  servers: string[];
  timeoutMs?: number;
  tries?: number;
}

/** Lookups through node's c-ares resolver, pointed at configured servers or the system's. */
export class LiveDnsLookup implements DnsLookup {
  readonly #resolver: Resolver;

  constructor(options: ResolverOptions) {
    this.#resolver = new Resolver({ timeout: options.timeoutMs ?? 2_000, tries: options.tries ?? 2 });
    if (options.servers.length > 0) this.#resolver.setServers(options.servers);
  }

  async lookup(type: 'CNAME' | 'MX' | 'TXT', name: string, options: LookupOptions = {}): Promise<LookupResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const query = this.#lookup(type, name);
    if (!signal) return query;
    // Given up on, not cancelled: Resolver.cancel() would end every query of the shared resolver, and a
    // resolver per lookup costs a new c-ares channel each (CPU a burst of checks cannot spare). The query left
    // behind ends within its own timeout.
    return new Promise<LookupResult>((resolve, reject) => {
      const abort = () => reject(signal.reason);
      signal.addEventListener('abort', abort, { once: true });
      query.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
    });
  }

  async #lookup(type: 'CNAME' | 'MX' | 'TXT', name: string): Promise<LookupResult> {
    try {
      if (type === 'CNAME') return { ok: true, answers: (await this.#resolver.resolveCname(name)).map(normalizeName) };
      if (type === 'MX') {
        const answers = await this.#resolver.resolveMx(name);
        return { ok: true, answers: answers.map((mx) => `${mx.priority} ${normalizeName(mx.exchange)}`) };
      }
      // A TXT record longer than 255 bytes arrives as several strings: they form one value.
      return { ok: true, answers: (await this.#resolver.resolveTxt(name)).map((parts) => parts.join('')) };
    } catch (error) {
      return { ok: false, ...classify(error) };
    }
  }
}

function classify(error: unknown): { failure: LookupFailure; detail: string } {
  const code = (error as { code?: string }).code ?? '';
  const failure: LookupFailure =
    (
      {
        ENOTFOUND: 'NXDOMAIN',
        ENODATA: 'NODATA',
        ESERVFAIL: 'SERVFAIL',
        ETIMEOUT: 'TIMEOUT',
        EREFUSED: 'REFUSED',
        ECONNREFUSED: 'UNREACHABLE',
      } as Record<string, LookupFailure>
    )[code] ?? 'ERROR';
  return { failure, detail: (error as Error).message ?? String(error) };
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

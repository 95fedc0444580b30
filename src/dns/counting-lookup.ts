import type { DnsLookup, LookupOptions, LookupResult } from './lookup.ts';

/** Counts every live lookup by type and outcome (for the DNS-checks metric), passing results through. */
export class CountingDnsLookup implements DnsLookup {
  readonly #inner: DnsLookup;
  readonly #count: (type: string, outcome: string) => void;

  constructor(inner: DnsLookup, count: (type: string, outcome: string) => void) {
    this.#inner = inner;
    this.#count = count;
  }

  async lookup(type: 'CNAME' | 'MX' | 'TXT', name: string, options?: LookupOptions): Promise<LookupResult> {
    const result = await this.#inner.lookup(type, name, options);
    this.#count(type, result.ok ? 'ok' : result.failure);
    return result;
  }
}

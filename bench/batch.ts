/** What the benchmarks set in a SesSetup's spec. */
export type SetupSpec = { tenantName: string; domainIdentity: string; dnsPublication?: 'Manual' | 'ExternalDNS' };

export type Item = { name: string; spec: SetupSpec };

/** Names and specs of one batch of setups; every domain sits under `.test`, which the local BIND serves. */
export function setupBatch(prefix: string, count: number): Item[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${String(i).padStart(5, '0')}`;
    return { name: id, spec: { tenantName: id.replace(/-/g, '_'), domainIdentity: `mail.${id}.bench.test` } };
  });
}

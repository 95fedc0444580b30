import type { DnsEndpoint } from '../../../../src/controllers/sessetup/dns-endpoint.ts';
import type { DnsEndpointAccess, PublicationProblem } from '../../../../src/controllers/sessetup/dns-endpoints.ts';
import { ApiError } from '../../../../src/runtime/kube-http.ts';

/** The operator's DNSEndpoints in memory: the informer cache and the API server in one, with injectable failures. */
export class MemoryDnsEndpoints implements DnsEndpointAccess {
  readonly namespace: string;
  readonly objects = new Map<string, DnsEndpoint>();
  readonly calls: string[] = [];
  /** What problem() reports (the informer's view: CRD missing, forbidden). */
  listProblem: PublicationProblem | undefined;
  /** Every write fails with it (RBAC, a missing namespace). */
  failWrites: ApiError | undefined;
  /** cached() answers undefined: the watch has not started or listed yet. */
  unwatched = false;
  /** Objects that exist but are not in the cache (no operator label): get() does not see them, create() collides. */
  readonly hidden = new Set<string>();
  #generation = 0;
  #uids = 0;

  constructor(namespace = 'ses-operator') {
    this.namespace = namespace;
  }
  problem(): PublicationProblem | undefined {
    return this.listProblem;
  }
  get(name: string): DnsEndpoint | undefined {
    return this.hidden.has(name) ? undefined : structuredClone(this.objects.get(name));
  }
  cached(): Iterable<DnsEndpoint> | undefined {
    return this.unwatched ? undefined : [...this.objects.keys()].filter((name) => !this.hidden.has(name)).map((name) => this.get(name)!);
  }
  async create(endpoint: DnsEndpoint): Promise<DnsEndpoint> {
    this.calls.push(`create ${endpoint.metadata.name}`);
    if (this.failWrites) throw this.failWrites;
    if (this.objects.has(endpoint.metadata.name)) throw new ApiError(409, 'AlreadyExists', 'exists');
    return this.#store({
      ...structuredClone(endpoint),
      metadata: { ...structuredClone(endpoint.metadata), generation: 1, uid: `dnsendpoint-${++this.#uids}` },
    });
  }
  async update(endpoint: DnsEndpoint): Promise<DnsEndpoint> {
    this.calls.push(`update ${endpoint.metadata.name}`);
    if (this.failWrites) throw this.failWrites;
    const stored = this.objects.get(endpoint.metadata.name);
    if (!stored || stored.metadata.resourceVersion !== endpoint.metadata.resourceVersion) throw new ApiError(409, 'Conflict', 'conflict');
    return this.#store({
      ...structuredClone(endpoint),
      metadata: { ...structuredClone(endpoint.metadata), generation: (stored.metadata.generation ?? 0) + 1 },
    });
  }
  async delete(name: string, uid: string | undefined, resourceVersion?: string): Promise<boolean> {
    this.calls.push(`delete ${name}`);
    if (this.failWrites) throw this.failWrites;
    const stored = this.objects.get(name);
    if (uid !== undefined && stored?.metadata.uid !== uid) return false;
    if (resourceVersion !== undefined && stored?.metadata.resourceVersion !== resourceVersion) return false;
    return this.objects.delete(name);
  }
  #store(endpoint: DnsEndpoint): DnsEndpoint {
    endpoint.metadata.resourceVersion = String(++this.#generation);
    this.objects.set(endpoint.metadata.name, endpoint);
    return structuredClone(endpoint);
  }
}

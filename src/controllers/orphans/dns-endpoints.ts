import type { Logger } from '../../runtime/logger.ts';
import { ownerUids, SETUP_LABEL, type DnsEndpoint } from '../sessetup/dns-endpoint.ts';
import type { DnsEndpointAccess } from '../sessetup/dns-endpoints.ts';
import { OrphanGrace } from './grace.ts';

/** What one pass over the operator's DNSEndpoints found: undefined when they are not watched in this process. */
export interface DnsEndpointSweepReport {
  /** Names of the DNSEndpoints whose SesSetup is gone, deleted or not. */
  orphans: string[];
  deleted: string[];
}

export interface DnsEndpointSweepContext {
  /** Live SesSetup UIDs when the sweep started. */
  liveUids: Set<string>;
  /** Live SesSetup UIDs read again, right before a delete. */
  freshLiveUids: () => Set<string>;
  synced: () => boolean;
  now: number;
  graceMs: number;
  signal?: AbortSignal;
}

/**
 * The operator's DNSEndpoints whose SesSetup is gone, where Kubernetes' garbage collector did not
 * take them through their owner reference (a bare API server, or one whose collector is behind):
 * a setup removed while no operator ran, for instance by kube-apiserver while the operator was
 * killed (kubernetes/kubernetes#77988). The SES orphans' rules: owned by no UID in a synced cache,
 * seen so at an earlier sweep at least a grace before, checked again right before the delete, and
 * deleted only as read (same UID and resourceVersion), so one a new setup of that name took over stays.
 * Reads only the cache the publish step already keeps: without a setup that publishes, nothing is watched and nothing is swept.
 */
export class DnsEndpointOrphans {
  readonly #access: DnsEndpointAccess;
  readonly #logger: Logger;
  readonly #onSwept: () => void;
  readonly #grace = new OrphanGrace<DnsEndpoint>(orphanKey);

  constructor(access: DnsEndpointAccess, logger: Logger, onSwept: () => void = () => {}) {
    this.#access = access;
    this.#logger = logger;
    this.#onSwept = onSwept;
  }

  async sweep(context: DnsEndpointSweepContext): Promise<DnsEndpointSweepReport | undefined> {
    const cached = this.#access.cached();
    if (!cached) return undefined;
    // One at a time: the cache is packed, and orphans are few.
    const orphans: DnsEndpoint[] = [];
    for (const endpoint of cached) if (isOrphan(endpoint, context.liveUids)) orphans.push(endpoint);
    const report: DnsEndpointSweepReport = { orphans: orphans.map((endpoint) => endpoint.metadata.name), deleted: [] };
    for (const endpoint of this.#grace.due(orphans, context.now, context.graceMs)) {
      context.signal?.throwIfAborted();
      if (!context.synced() || !isOrphan(endpoint, context.freshLiveUids())) continue;
      const { name, uid, resourceVersion } = endpoint.metadata;
      if (!(await this.#deleted(name, uid, resourceVersion))) continue;
      this.#grace.forget(endpoint);
      report.deleted.push(name);
      this.#onSwept();
      const setupName = endpoint.metadata.labels?.[SETUP_LABEL];
      const owners = ownerUids(endpoint);
      this.#logger.warn(
        { kind: 'dnsendpoint', name, namespace: this.#access.namespace, ownerUid: owners.join(','), ownerName: setupName },
        `orphan swept: DNSEndpoint ${this.#access.namespace}/${name} belonged to SesSetup ${setupName ?? '?'} (UID ${owners.join(', ')}), which no longer exists; external-dns removes its records`,
      );
    }
    return report;
  }

  /** A failed delete (RBAC, the API server) is logged and tried at the next sweep: it must not stop the SES part. */
  async #deleted(name: string, uid: string | undefined, resourceVersion: string | undefined): Promise<boolean> {
    try {
      return await this.#access.delete(name, uid, resourceVersion);
    } catch (error) {
      this.#logger.warn({ err: error, name, namespace: this.#access.namespace }, 'deleting an orphaned DNSEndpoint failed; trying again at the next sweep');
      return false;
    }
  }
}

/** Made for a SesSetup (it names one as owner), and none of its SesSetup owners is live. */
function isOrphan(endpoint: DnsEndpoint, liveUids: Set<string>): boolean {
  const owners = ownerUids(endpoint);
  return owners.length > 0 && !owners.some((uid) => liveUids.has(uid));
}

function orphanKey(endpoint: DnsEndpoint): string {
  return `${endpoint.metadata.name}|${endpoint.metadata.uid ?? ''}`;
}

import { Informer, type InformerEventHandler } from '../../runtime/informer.ts';
import { ApiError, objectPath, requestJson, type KubeAccess } from '../../runtime/kube-http.ts';
import type { Logger } from '../../runtime/logger.ts';
import { DNS_ENDPOINT, DNS_ENDPOINT_SELECTOR, type DnsEndpoint } from './dns-endpoint.ts';

/** Why DNSEndpoints cannot be read or written now, as a condition reason and an actionable message. */
export interface PublicationProblem {
  reason: 'DnsEndpointCrdMissing' | 'DnsEndpointForbidden' | 'DnsEndpointNamespaceMissing' | 'DnsEndpointsUnavailable';
  message: string;
  /** Not a problem a person must fix: the first LIST has not answered yet. */
  transient?: boolean;
}

/** What the publish step and the teardown need: the cached DNSEndpoints, and the three writes. */
export interface DnsEndpointAccess {
  /** The namespace the DNSEndpoints live in. */
  readonly namespace: string;
  /** Starts watching on first use (setups that publish nothing cost nothing); undefined once the cache is usable. */
  problem(): PublicationProblem | undefined;
  get(name: string): DnsEndpoint | undefined;
  /** Every cached DNSEndpoint, without starting the watch: undefined until something started it and its first listing answered. */
  cached(): Iterable<DnsEndpoint> | undefined;
  create(endpoint: DnsEndpoint): Promise<DnsEndpoint>;
  update(endpoint: DnsEndpoint): Promise<DnsEndpoint>;
  /** Deletes exactly that object (by UID, and unchanged since read when resourceVersion is given): false when it is gone already, replaced or changed. */
  delete(name: string, uid: string | undefined, resourceVersion?: string): Promise<boolean>;
}

const CRD_NAME = `${DNS_ENDPOINT.plural}.${DNS_ENDPOINT.group}`;

/** The condition a failed DNSEndpoint read or write means, or undefined for an error that is not about setup (retry it). */
export function problemOf(error: unknown, namespace: string): PublicationProblem | undefined {
  if (!(error instanceof ApiError)) return undefined;
  if (error.code === 403)
    return {
      reason: 'DnsEndpointForbidden',
      message: `RBAC forbids the operator to write DNSEndpoints in namespace ${namespace} (${error.message}): grant get, list, watch, create, update, patch, delete on ${CRD_NAME} (deploy/ does)`,
    };
  if (error.code === 404 && /namespaces? "?[^"]*"? not found/i.test(error.message))
    return {
      reason: 'DnsEndpointNamespaceMissing',
      message: `namespace ${namespace} (--dns-endpoint-namespace) does not exist: create it or point the flag elsewhere`,
    };
  if (error.code === 404) return crdMissing();
  return undefined;
}

function crdMissing(): PublicationProblem {
  return {
    reason: 'DnsEndpointCrdMissing',
    message: `the DNSEndpoint CRD (${CRD_NAME}) is not installed: install external-dns with its CRD source (see docs/dns-publication.md), or set spec.dnsPublication to Manual and publish status.dnsRecords yourself`,
  };
}

/**
 * The operator's DNSEndpoints in one namespace: an informer filtered by the operator's label
 * (so a steady state reads only the cache), started lazily and kept out of the manager's
 * readiness and liveness: a cluster without external-dns's CRD answers 404 until someone installs it.
 */
export class DnsEndpoints implements DnsEndpointAccess {
  readonly namespace: string;
  readonly informer: Informer<DnsEndpoint>;
  readonly #kc: KubeAccess;
  readonly #onWrite: (verb: string) => void;
  #started = false;

  constructor(options: { kc: KubeAccess; namespace: string; logger: Logger; onWrite?: (verb: string) => void }) {
    this.namespace = options.namespace;
    this.#kc = options.kc;
    this.#onWrite = options.onWrite ?? (() => {});
    this.informer = new Informer<DnsEndpoint>({
      kc: options.kc,
      path: objectPath(DNS_ENDPOINT, options.namespace),
      labelSelector: DNS_ENDPOINT_SELECTOR,
      logger: options.logger,
      // One per published setup: kept packed like the SesSetups, since thousands of parsed ones would not fit the pod.
      packed: true,
      // A CRD installed after the operator started is noticed within seconds; a 404 LIST costs the API server little.
      backoff: { maxMs: 10_000 },
    });
  }

  addEventHandler(handler: InformerEventHandler<DnsEndpoint>): void {
    this.informer.addEventHandler(handler);
  }

  problem(): PublicationProblem | undefined {
    if (!this.#started) {
      this.#started = true;
      this.informer.start();
    }
    if (this.informer.hasSynced()) return undefined;
    const { lastErrorCode, lastError } = this.informer.health();
    if (lastError === undefined) return { reason: 'DnsEndpointsUnavailable', message: `listing DNSEndpoints in namespace ${this.namespace}`, transient: true };
    if (lastErrorCode === undefined)
      return { reason: 'DnsEndpointsUnavailable', message: `listing DNSEndpoints in namespace ${this.namespace} failed: ${lastError}` };
    return (
      problemOf(new ApiError(lastErrorCode, undefined, lastError ?? ''), this.namespace) ?? {
        reason: 'DnsEndpointsUnavailable',
        message: `listing DNSEndpoints in namespace ${this.namespace} failed: ${lastError}`,
      }
    );
  }

  get(name: string): DnsEndpoint | undefined {
    return this.informer.get(`${this.namespace}/${name}`);
  }

  cached(): Iterable<DnsEndpoint> | undefined {
    return this.#started && this.informer.hasSynced() ? this.informer.values() : undefined;
  }

  create(endpoint: DnsEndpoint): Promise<DnsEndpoint> {
    this.#onWrite('create');
    return requestJson<DnsEndpoint>(this.#kc, 'POST', objectPath(DNS_ENDPOINT, this.namespace), { body: endpoint });
  }

  /** A PUT guarded by the cached resourceVersion: a conflict (409) means the cache is behind, and the retry sees the newer object. */
  update(endpoint: DnsEndpoint): Promise<DnsEndpoint> {
    this.#onWrite('update');
    return requestJson<DnsEndpoint>(this.#kc, 'PUT', objectPath(DNS_ENDPOINT, this.namespace, endpoint.metadata.name), { body: endpoint });
  }

  async delete(name: string, uid: string | undefined, resourceVersion?: string): Promise<boolean> {
    const preconditions = { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) };
    const body = Object.keys(preconditions).length ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions } : undefined;
    try {
      this.#onWrite('delete');
      await requestJson(this.#kc, 'DELETE', objectPath(DNS_ENDPOINT, this.namespace, name), { body });
      return true;
    } catch (error) {
      // Gone already, the CRD itself gone (and every DNSEndpoint with it), or (409) another object under that name now, or changed since read.
      if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return false;
      throw error;
    }
  }

  stop(): Promise<void> {
    return this.#started ? this.informer.stop() : Promise.resolve();
  }
}

import { type KubeAccess, objectPath, requestJson } from './kube-http.ts';

/** The Lease fields used here, as JSON: MicroTime must have exactly six fractional digits. */
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** RFC 3339 with microseconds, the only form the API server parses for a MicroTime. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };
import { silentLogger, type Logger } from './logger.ts';

export interface LeaderElectionOptions {
  kc: KubeAccess;
  namespace: string;
  name: string;
  /** Unique per process: the pod name plus a random suffix. */
  identity: string;
  /** controller-runtime's defaults: 15 s lease, 10 s renew deadline, 2 s retry period. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
  onStartedLeading: () => void;
  /** Called at once when the lease is lost (or released): stop reconciling. */
  onStoppedLeading: () => void;
  onLeaderChange?: (isLeader: boolean) => void;
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: every write is guarded by
 * the Lease's resourceVersion, a lease is taken only once it has expired, and a leader that cannot
 * renew within the renew deadline steps down by itself.
 */
export class LeaderElector {
  // Leases go out as plain JSON: client-node's typed Lease serializer writes MicroTime with milliseconds, which the API server refuses.
  readonly #kc: KubeAccess;
  readonly #o: Required<Omit<LeaderElectionOptions, 'onLeaderChange' | 'kc'>> & Pick<LeaderElectionOptions, 'onLeaderChange'>;
  #leading = false;
  #lastRenew = 0;
  #observed: { holder?: string; renewTime?: number; version?: string; seenAt: number } = { seenAt: 0 };
  #stopped = false;
  #wake: (() => void) | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#kc = options.kc;
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      logger: silentLogger,
      ...options,
    };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Campaigns and renews until stop(); resolves when stopped. */
  async run(): Promise<void> {
    while (!this.#stopped) {
      const result = await this.#tryAcquireOrRenew().catch((error: unknown) => {
        this.#o.logger.warn({ err: error }, 'leader election: lease request failed');
        return 'failed' as const;
      });
      const now = Date.now();
      if (result === 'held') {
        this.#lastRenew = now;
        if (!this.#leading) this.#setLeading(true);
      } else if (this.#leading && result === 'taken') {
        this.#o.logger.error('leader election: another replica holds the lease; stopping work');
        this.#setLeading(false);
      } else if (this.#leading && now - this.#lastRenew >= this.#o.renewDeadlineMs) {
        this.#o.logger.error({ renewDeadlineMs: this.#o.renewDeadlineMs }, 'leader election: lease lost; stopping work');
        this.#setLeading(false);
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, this.#o.retryPeriodMs * (this.#leading ? 1 : 0.8 + 0.4 * Math.random())).unref();
      });
    }
  }

  /** Stops campaigning; a leader gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    if (!this.#leading) return;
    this.#setLeading(false);
    try {
      const lease = await this.#read();
      if (lease.spec?.holderIdentity !== this.#o.identity) return;
      // client-go's ReleaseOnCancel: an empty holder and a 1 s duration mark the lease free.
      lease.spec = { leaseDurationSeconds: 1, renewTime: microTime(new Date()), leaseTransitions: lease.spec?.leaseTransitions };
      await this.#replace(lease);
      this.#o.logger.info('leader election: lease released');
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'leader election: could not release the lease');
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#o.onLeaderChange?.(leading);
    this.#o.logger.info({ identity: this.#o.identity, lease: `${this.#o.namespace}/${this.#o.name}` }, leading ? 'became leader' : 'stopped leading');
    if (leading) this.#o.onStartedLeading();
    else this.#o.onStoppedLeading();
  }

  #read(): Promise<Lease> {
    return requestJson<Lease>(this.#kc, 'GET', objectPath(LEASES, this.#o.namespace, this.#o.name));
  }

  #replace(lease: Lease): Promise<Lease> {
    return requestJson<Lease>(this.#kc, 'PUT', objectPath(LEASES, this.#o.namespace, this.#o.name), { body: lease });
  }

  /** held: we hold it now; taken: someone else holds a live lease; failed: could not tell. */
  async #tryAcquireOrRenew(): Promise<'held' | 'taken' | 'failed'> {
    const { name, namespace, identity } = this.#o;
    const now = new Date();
    const durationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await this.#read();
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      const body: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      try {
        await requestJson(this.#kc, 'POST', objectPath(LEASES, namespace), { body });
      } catch (createError) {
        if ((createError as { code?: number }).code === 409) return 'failed'; // another replica created it first
        throw createError;
      }
      return 'held';
    }
    const spec = lease.spec ?? {};
    // Expiry is judged by when *we* last saw the lease change (local clock), as client-go does.
    if (lease.metadata?.resourceVersion !== this.#observed.version) {
      this.#observed = { holder: spec.holderIdentity, version: lease.metadata?.resourceVersion, seenAt: Date.now() };
    }
    const heldByOther = spec.holderIdentity && spec.holderIdentity !== identity;
    const expired = Date.now() - this.#observed.seenAt > (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && !expired) return 'taken';
    const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === identity ? 0 : 1);
    lease.spec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: spec.holderIdentity === identity && spec.acquireTime ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: transitions,
    };
    // resourceVersion in the body makes this a compare-and-swap: a 409 means someone else won.
    try {
      const updated = await this.#replace(lease);
      this.#observed = { holder: identity, version: updated.metadata?.resourceVersion, seenAt: Date.now() };
      return 'held';
    } catch (error) {
      if ((error as { code?: number }).code === 409) return 'failed';
      throw error;
    }
  }
}

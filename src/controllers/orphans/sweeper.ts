import { OWNER_NAME_TAG, OWNER_UID_TAG } from '../../api/group.ts';
import type { SesSetup } from '../../api/sessetup.ts';
import type { Logger } from '../../runtime/logger.ts';
import { identityArn, type SesCallOptions, type SesGateway, type SesPage } from '../../ses/gateway.ts';
import type { DnsEndpointAccess } from '../sessetup/dns-endpoints.ts';
import { DnsEndpointOrphans, type DnsEndpointSweepReport } from './dns-endpoints.ts';
import { OrphanGrace } from './grace.ts';
import { isRetained, markRetained, retainTarget } from './retained.ts';
import { pinnedRegion } from '../sessetup/region.ts';

export type OrphanKind = 'tenant' | 'identity';
/** What the sweep counts: SES resources by region, DNSEndpoints (region empty). */
export type SweptKind = OrphanKind | 'dnsendpoint';

export interface OrphanSweepOptions {
  ses: SesGateway;
  /** The live SesSetups, as the informer cache holds them. */
  setups: () => Iterable<SesSetup>;
  /** True while every informer has synced: a partial cache would make live setups look gone. */
  synced: () => boolean;
  defaultRegion: string;
  /** Time between sweeps; 0 turns the sweep off. */
  intervalMs: number;
  /** How long a resource must have been seen orphaned (at two sweeps at least) before it is deleted. */
  graceMs: number;
  logger: Logger;
  /** The operator's DNSEndpoints: those whose SesSetup is gone are swept too, while they are watched. */
  dnsEndpoints?: DnsEndpointAccess;
  onSwept?: (kind: SweptKind, region: string) => void;
  now?: () => number;
}

/** One resource tagged with an owner UID that no live SesSetup has. */
export interface Orphan {
  kind: OrphanKind;
  region: string;
  name: string;
  ownerUid: string;
  ownerName?: string;
  /** Tenants only (the identity's ARN is derived from it). */
  arn?: string;
}

export interface SweepReport {
  skipped?: 'not-synced';
  regions: string[];
  /** Orphans seen in this sweep, deleted or not. */
  orphans: Orphan[];
  deleted: Orphan[];
  /** Live Retain setups whose resources this sweep tagged as retained (or found tagged). */
  markedRetained: number;
  /** SES calls this sweep made. */
  calls: number;
  /** The operator's DNSEndpoints whose setup is gone; absent while none are watched. */
  dnsEndpoints?: DnsEndpointSweepReport;
}

/** Live Retain setups marked per sweep at most: a first sweep over many of them stays short. */
const RETAIN_MARKS_PER_SWEEP = 50;

/**
 * Deletes SES tenants and identities tagged as the operator's own whose SesSetup no longer exists:
 * what a SesSetup leaves behind when it is removed while no operator runs and its finalizer is
 * gone. Runs on the leader only (started and stopped with the controllers). The operator's
 * DNSEndpoints of such a setup go too, by the same rules (DnsEndpointOrphans).
 *
 * Safe by construction: nothing is deleted unless its owner UID tag names no SesSetup in a synced
 * cache, it carries no retained tag, it was already an orphan at an earlier sweep at least
 * `graceMs` before, and a read right before the delete still says so. First-seen times live in
 * memory: after a restart the grace starts again, which only delays a deletion.
 *
 * Calls are made one at a time, so the sweep holds at most one place in the shared SES rate
 * limiter's queue and reconciles keep flowing. SES lists carry no tags, so each listed resource
 * costs one Get, except those a live setup's status records as its own (its UID is live) and
 * those already known in this process as foreign or retained (neither can turn into an orphan).
 */
export class OrphanSweeper {
  readonly #o: OrphanSweepOptions;
  readonly #now: () => number;
  readonly #dnsEndpoints: DnsEndpointOrphans | undefined;
  readonly #grace = new OrphanGrace<Orphan>(orphanKey);
  /** Resources read once and found untagged, owned by no UID, or retained: never read again in this process. */
  readonly #settled = new Set<string>();
  /** Every region a live setup used since this process started: a region whose last setup went still gets swept. */
  readonly #regions = new Set<string>();
  /** UIDs of live Retain setups whose resources carry the retained tag (checked once per process). */
  readonly #markedRetained = new Set<string>();
  /** The live UIDs re-read for the deletes, and when: at most once a second (each read walks the whole cache). */
  #liveUids: { at: number; uids: Set<string> } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #running: Promise<unknown> | undefined;

  constructor(options: OrphanSweepOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#dnsEndpoints = options.dnsEndpoints && new DnsEndpointOrphans(options.dnsEndpoints, options.logger, () => options.onSwept?.('dnsendpoint', ''));
  }

  get enabled(): boolean {
    return this.#o.intervalMs > 0;
  }

  /**
   * Sweeps one interval after the start, then every interval (sooner while an orphan waits out its
   * grace). Not at once: start-up is when reconciles need the SES rate most. No-op when turned off.
   */
  start(): void {
    if (!this.enabled || this.#abort) return;
    this.#abort = new AbortController();
    this.#schedule(this.#o.intervalMs);
  }

  /** Stops the timer and cuts a running sweep's SES calls short. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort();
    this.#abort = undefined;
    await this.#running?.catch(() => {});
  }

  #schedule(delayMs: number): void {
    const abort = this.#abort;
    if (!abort) return;
    this.#timer = setTimeout(() => {
      const running = this.sweep(abort.signal)
        .catch((error: unknown) => {
          if (!abort.signal.aborted) this.#o.logger.warn({ err: error }, 'orphan sweep failed; trying again at the next interval');
          return undefined;
        })
        .then((report) => {
          if (abort.signal.aborted) return;
          // An orphan waiting out its grace is looked at again once the grace is over, not an interval later.
          const waiting = report !== undefined && (stillThere(report) || (report.dnsEndpoints !== undefined && stillThere(report.dnsEndpoints)));
          this.#schedule(waiting ? Math.min(this.#o.intervalMs, Math.max(this.#o.graceMs, 1_000)) : this.#o.intervalMs);
        });
      this.#running = running;
    }, delayMs);
    this.#timer.unref?.();
  }

  /** One sweep over every region in use. Exposed for tests; start() runs it on its schedule. */
  async sweep(signal?: AbortSignal): Promise<SweepReport> {
    const report: SweepReport = { regions: [], orphans: [], deleted: [], markedRetained: 0, calls: 0 };
    if (!this.#o.synced()) {
      this.#o.logger.info('orphan sweep skipped: caches not synced');
      return { ...report, skipped: 'not-synced' };
    }
    const live = liveView(this.#o.setups(), this.#o.defaultRegion);
    for (const region of live.regions) this.#regions.add(region);
    for (const uid of this.#markedRetained) if (!live.uids.has(uid)) this.#markedRetained.delete(uid);
    this.#regions.add(this.#o.defaultRegion);
    report.regions = [...this.#regions].sort();
    // Scheduled upkeep: a new setup's or a deletion's calls go ahead of the sweep's.
    const options: SesCallOptions = { signal, priority: 'routine' };
    const ses = countingCalls(this.#o.ses, () => report.calls++);
    const now = this.#now();

    // First: they cost no SES call, so a failing SES list (IAM) does not keep them.
    const dnsEndpoints = await this.#dnsEndpoints?.sweep({
      liveUids: live.uids,
      freshLiveUids: () => this.#freshLiveUids(),
      synced: this.#o.synced,
      now,
      graceMs: this.#o.graceMs,
      signal,
    });
    if (dnsEndpoints) report.dnsEndpoints = dnsEndpoints;

    for (const region of report.regions) {
      for await (const tenant of pages((token) => ses.listTenants(region, token, options))) {
        if (live.records('tenant', region, tenant.name) || this.#settled.has(key('tenant', region, tenant.name))) continue;
        const found = await ses.getTenant(region, tenant.name, options);
        if (found) this.#classify(report, live.uids, { kind: 'tenant', region, name: tenant.name, arn: found.arn }, found.tags);
      }
      for await (const identity of pages((token) => ses.listEmailIdentities(region, token, options))) {
        // The operator creates domain identities only.
        if (identity.type !== undefined && identity.type !== 'DOMAIN') continue;
        if (live.records('identity', region, identity.name) || this.#settled.has(key('identity', region, identity.name))) continue;
        const found = await ses.getEmailIdentity(region, identity.name, options);
        if (found) this.#classify(report, live.uids, { kind: 'identity', region, name: identity.name }, found.tags);
      }
    }

    this.#liveUids = undefined;
    const due = this.#grace.due(report.orphans, now, this.#o.graceMs);
    // Identities first: association, identity, tenant, the order of a finalizer's teardown.
    due.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'identity' ? -1 : 1));
    for (const orphan of due) {
      signal?.throwIfAborted();
      if (await this.#delete(ses, orphan, report.orphans, options)) {
        report.deleted.push(orphan);
        this.#grace.forget(orphan);
      }
    }
    await this.#markLiveRetained(ses, live.retain, report, options);
    this.#o.logger.info(
      {
        regions: report.regions,
        orphans: report.orphans.length,
        deleted: report.deleted.length,
        ...(dnsEndpoints ? { dnsEndpointOrphans: dnsEndpoints.orphans.length, dnsEndpointsDeleted: dnsEndpoints.deleted.length } : {}),
        markedRetained: report.markedRetained,
        sesCalls: report.calls,
      },
      'orphan sweep done',
    );
    return report;
  }

  /**
   * Tags the resources of live Retain setups as retained ahead of their deletion, so a Retain setup
   * whose finalizer never runs (stripped while no operator runs) is not swept: the finalizer's own
   * marking covers only deletions it sees. After the orphan deletions, so these never delay them.
   */
  async #markLiveRetained(ses: SesGateway, retain: { setup: SesSetup; region: string }[], report: SweepReport, options: SesCallOptions): Promise<void> {
    for (const { setup, region } of retain) {
      if (report.markedRetained >= RETAIN_MARKS_PER_SWEEP) return;
      const uid = setup.metadata.uid;
      if (!uid || this.#markedRetained.has(uid)) continue;
      options.signal?.throwIfAborted();
      await markRetained(ses, retainTarget(setup, region), options);
      this.#markedRetained.add(uid);
      report.markedRetained++;
    }
  }

  #freshLiveUids(): Set<string> {
    const at = performance.now();
    if (!this.#liveUids || at - this.#liveUids.at > 1_000) this.#liveUids = { at, uids: liveView(this.#o.setups(), this.#o.defaultRegion).uids };
    return this.#liveUids.uids;
  }

  #classify(report: SweepReport, liveUids: Set<string>, resource: Omit<Orphan, 'ownerUid'>, tags: Record<string, string>): void {
    const ownerUid = tags[OWNER_UID_TAG];
    if (!ownerUid || isRetained(tags)) {
      this.#settled.add(key(resource.kind, resource.region, resource.name));
      return;
    }
    if (liveUids.has(ownerUid)) return;
    report.orphans.push({ ...resource, ownerUid, ...(tags[OWNER_NAME_TAG] ? { ownerName: tags[OWNER_NAME_TAG] } : {}) });
  }

  /**
   * Deletes one orphan after checking again, right before, what a finalizer's teardown checks: the
   * cache is still synced, its UID is still not live, and SES still shows that UID and no retained tag.
   */
  async #delete(ses: SesGateway, orphan: Orphan, orphans: Orphan[], options: SesCallOptions): Promise<boolean> {
    if (!this.#o.synced()) return false;
    if (this.#freshLiveUids().has(orphan.ownerUid)) return false;
    const { region, name, ownerUid } = orphan;
    const stillOrphan = (tags: Record<string, string> | undefined) => tags !== undefined && tags[OWNER_UID_TAG] === ownerUid && !isRetained(tags);
    if (orphan.kind === 'identity') {
      const identity = await ses.getEmailIdentity(region, name, options);
      if (!stillOrphan(identity?.tags)) return false;
      // The association with a tenant of the same owner goes first, as in teardown.
      for (const tenant of orphans) {
        if (tenant.kind === 'tenant' && tenant.region === region && tenant.ownerUid === ownerUid && tenant.arn) {
          await ses.disassociate(region, tenant.name, identityArn(tenant.arn, name), options);
        }
      }
      await ses.deleteEmailIdentity(region, name, options);
    } else {
      const tenant = await ses.getTenant(region, name, options);
      if (!stillOrphan(tenant?.tags)) return false;
      await ses.deleteTenant(region, name, options);
    }
    this.#o.onSwept?.(orphan.kind, region);
    this.#o.logger.warn(
      { kind: orphan.kind, name, region, ownerUid, ownerName: orphan.ownerName },
      `orphan swept: SES ${orphan.kind} ${name} in ${region} belonged to SesSetup ${orphan.ownerName ?? '?'} (UID ${ownerUid}), which no longer exists`,
    );
    return true;
  }
}

/** What the cache says is alive: owner UIDs, regions in use, and the resources each setup's status records as its own. */
function liveView(setups: Iterable<SesSetup>, defaultRegion: string) {
  const uids = new Set<string>();
  const regions = new Set<string>();
  const recorded = new Set<string>();
  const retain: { setup: SesSetup; region: string }[] = [];
  for (const setup of setups) {
    if (setup.metadata.uid) uids.add(setup.metadata.uid);
    // The recorded region (pinned before the first SES call) wins over spec.region.
    const region = pinnedRegion(setup, defaultRegion);
    regions.add(region);
    if (setup.status?.tenant?.arn && setup.status.tenant.name) recorded.add(key('tenant', region, setup.status.tenant.name));
    if (setup.status?.identity?.name) recorded.add(key('identity', region, setup.status.identity.name));
    if (setup.spec?.deletionPolicy === 'Retain' && setup.status?.tenant?.arn) retain.push({ setup, region });
  }
  return { uids, regions, retain, records: (kind: OrphanKind, region: string, name: string) => recorded.has(key(kind, region, name)) };
}

/** Identity names compare case-insensitively in SES; tenant names do not. */
function key(kind: OrphanKind, region: string, name: string): string {
  return `${kind}|${region}|${kind === 'identity' ? name.toLowerCase() : name}`;
}

function orphanKey(orphan: Orphan): string {
  return `${key(orphan.kind, orphan.region, orphan.name)}|${orphan.ownerUid}`;
}

/** Orphans seen and not deleted: waiting out their grace. */
function stillThere(found: { orphans: unknown[]; deleted: unknown[] }): boolean {
  return found.orphans.length > found.deleted.length;
}

/** Every item of a paginated SES list, one page (one call) at a time. */
async function* pages<T>(list: (nextToken: string | undefined) => Promise<SesPage<T>>): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const page = await list(token);
    yield* page.items;
    token = page.nextToken;
  } while (token);
}

/** The gateway, counting each call it is asked for (for the sweep's report and log). */
function countingCalls(ses: SesGateway, count: () => void): SesGateway {
  return new Proxy(ses, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        count();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

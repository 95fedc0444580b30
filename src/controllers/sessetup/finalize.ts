import { FINALIZER } from '../../api/group.ts';
import { DOMAIN_PATTERN, TENANT_NAME_PATTERN, type SesSetup } from '../../api/sessetup.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { ResourceClient } from '../../runtime/resource-client.ts';
import type { SesCallOptions, SesGateway } from '../../ses/gateway.ts';
import { ApiError, unlessNotFound } from '../../runtime/kube-http.ts';
import type { ReferrerIndex } from '../referrers.ts';
import { accessDeniedVerdict, isAccessDenied } from './access-denied.ts';
import { markRetained } from '../orphans/retained.ts';
import { ownedBy } from './dns-endpoint.ts';
import type { DnsEndpointAccess } from './dns-endpoints.ts';
import { countedReferrers, type NamespaceLabels } from '../tenancy.ts';
import { pinnedRegion } from './region.ts';
import { tearDown } from './ses-resources.ts';
import type { Happening } from './step.ts';

export interface FinalizeDeps {
  ses: SesGateway;
  referrers: Pick<ReferrerIndex, 'referrers'>;
  /** Namespace labels: referrers from namespaces the setup does not allow never hold its deletion. */
  namespaces?: NamespaceLabels;
  client: Pick<ResourceClient, 'removeFinalizer'>;
  logger: Logger;
  defaultRegion: string;
  wrote?: (object: SesSetup) => void;
  dnsEndpoints?: DnsEndpointAccess;
  /** What every teardown SES call passes: its signal (aborted when the controller gives up on the reconcile) and priority. */
  sesCall: SesCallOptions;
  /** How long a teardown IAM denied waits before the next try (said in its message). */
  deniedRetryMs?: number;
}

/** How a deletion went; summarize turns it into conditions and Events. */
export type DeletionOutcome =
  /** Our finalizer is gone already (another controller's may still hold the object). */
  | { kind: 'released-earlier' }
  /** Referrers still use the setup: nothing is torn down. */
  | { kind: 'blocked'; message: string }
  /** Teardown or the finalizer's removal failed: retried with backoff. */
  | { kind: 'failed'; error: unknown; message: string }
  /** SES torn down (or retained) and the finalizer removed: the object is gone or going. */
  | { kind: 'released'; happened: Happening[] };

/** What a teardown needs, from what status recorded (spec only where status has nothing). */
export interface TeardownTarget {
  region: string;
  tenantName?: string;
  domain?: string;
  retain: boolean;
  ownerUid: string;
}

/**
 * What to tear down, where. Needs no valid spec: a stored object that fails today's schema (an
 * older CRD, a loosened rule) must still be deletable. Names come from status; a spec value is
 * used only when status has none and it is a name SES could have accepted at all.
 */
export function teardownTarget(setup: SesSetup, defaultRegion: string): TeardownTarget {
  const spec = (setup.spec ?? {}) as Partial<Record<string, unknown>>;
  return {
    region: pinnedRegion(setup, defaultRegion),
    tenantName: setup.status?.tenant?.name ?? validName(spec.tenantName, TENANT_NAME_PATTERN, 64),
    domain: setup.status?.identity?.name ?? validName(spec.domainIdentity, DOMAIN_PATTERN, 253),
    retain: spec.deletionPolicy === 'Retain',
    ownerUid: setup.metadata.uid ?? '',
  };
}

function validName(value: unknown, pattern: string, maxLength: number): string | undefined {
  return typeof value === 'string' && value.length <= maxLength && new RegExp(pattern).test(value) ? value : undefined;
}

/**
 * A deleting SesSetup: blocked while referrers exist (only those from namespaces it allows count);
 * else SES torn down in the contract's order (only what carries our UID tag), or kept with
 * deletionPolicy Retain; then our finalizer removed.
 */
export async function finalize(setup: SesSetup, deps: FinalizeDeps): Promise<DeletionOutcome> {
  if (!setup.metadata.finalizers?.includes(FINALIZER)) return { kind: 'released-earlier' };
  const referrers = countedReferrers(setup, deps.referrers, deps.namespaces);
  if (referrers.length > 0) {
    const shown = referrers.slice(0, 10).join(', ') + (referrers.length > 10 ? `, and ${referrers.length - 10} more` : '');
    return { kind: 'blocked', message: `deletion waits for ${referrers.length} referrer(s) to be deleted: ${shown}` };
  }
  const target = teardownTarget(setup, deps.defaultRegion);
  try {
    const log = deps.logger.child({ sessetup: setup.metadata.name });
    const happened = target.retain ? await retain(setup, target, deps) : await tearDownTarget(target, deps, log);
    happened.push(...(await unpublish(setup, deps.dnsEndpoints, log)));
    // Gone already (undefined): a reconcile of the same deletion released it, and this copy came from a cache not yet told.
    const released = await unlessNotFound(deps.client.removeFinalizer(setup, FINALIZER));
    if (released) deps.wrote?.(released);
    return { kind: 'released', happened };
  } catch (error) {
    const reason = isAccessDenied(error) ? accessDeniedVerdict(error, deps.deniedRetryMs ?? 0).message : error instanceof Error ? error.message : String(error);
    return { kind: 'failed', error, message: `tearing down in ${target.region} failed, retrying: ${reason}` };
  }
}

/**
 * The setup's DNSEndpoint, deleted explicitly (external-dns then removes the records): the owner
 * reference's garbage collection alone may come late, or never where the collector is off. RBAC
 * that forbids the delete is logged and left to the garbage collector, so it cannot block the deletion.
 */
async function unpublish(setup: SesSetup, access: DnsEndpointAccess | undefined, log: Logger): Promise<Happening[]> {
  const name = setup.metadata.name;
  const asked = (setup.spec as { dnsPublication?: unknown } | undefined)?.dnsPublication === 'ExternalDNS';
  const published = setup.status?.dnsRecords?.some((record) => record.published) ?? false;
  if (!access || !(asked || published || access.get(name))) return [];
  const problem = access.problem();
  // Right after a restart the watch may not have listed yet: wait for it rather than miss the object.
  if (problem?.transient) throw new Error(`waiting for the first listing of DNSEndpoints in ${access.namespace}`);
  // Only the operator's own object for this setup (labelled, owned by its UID) is deleted; a CRD that is gone took every DNSEndpoint with it.
  const endpoint = problem ? undefined : access.get(name);
  if (!endpoint || !ownedBy(endpoint, setup.metadata.uid)) return [];
  try {
    if (!(await access.delete(name, endpoint.metadata.uid))) return [];
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 403)) throw error;
    log.warn({ err: error }, 'deleting the DNSEndpoint is forbidden; leaving it to the garbage collector (owner reference)');
    return [];
  }
  return [{ type: 'Normal', reason: 'Unpublished', message: `DNSEndpoint ${access.namespace}/${name} deleted: external-dns removes its records` }];
}

/** Tags what Retain keeps, so the orphan sweep never deletes it once the setup is gone. */
async function retain(setup: SesSetup, target: TeardownTarget, deps: Pick<FinalizeDeps, 'ses' | 'sesCall'>): Promise<Happening[]> {
  await markRetained(deps.ses, { ...target, identityArn: setup.status?.identity?.arn }, deps.sesCall);
  return retained(target);
}

function retained(target: TeardownTarget): Happening[] {
  const kept = [target.tenantName && `SES tenant ${target.tenantName}`, target.domain && `identity ${target.domain}`].filter(Boolean).join(' and ');
  return [{ type: 'Normal', reason: 'Retained', message: `deletionPolicy Retain: ${kept || 'nothing'} ${kept.includes(' and ') ? 'are' : 'is'} kept in SES` }];
}

async function tearDownTarget(target: TeardownTarget, deps: FinalizeDeps, log: Logger): Promise<Happening[]> {
  const result = await tearDown(deps.ses, target.region, target.tenantName, target.domain, target.ownerUid, deps.sesCall);
  log.info({ region: target.region, ...result }, 'SES torn down');
  const happened: Happening[] = [];
  for (const [what, label] of [
    ['identity', `identity ${target.domain}`],
    ['tenant', `tenant ${target.tenantName}`],
  ] as const) {
    if (result[what] === 'deleted') happened.push({ type: 'Normal', reason: 'Deleted', message: `SES ${label} deleted` });
    if (result[what] === 'not-owned')
      happened.push({ type: 'Warning', reason: 'NotOwned', message: `SES ${label} was not created by this SesSetup and was left in place` });
  }
  return happened;
}

/**
 * The teardown of a setup removed without its finalizer being honoured (kubernetes/kubernetes#77988):
 * the same target as a normal deletion, from the last state the watch delivered, its DNSEndpoint included.
 */
export async function tearDownVanished(
  setup: SesSetup,
  deps: Pick<FinalizeDeps, 'ses' | 'logger' | 'defaultRegion' | 'sesCall' | 'dnsEndpoints'>,
): Promise<void> {
  const target = teardownTarget(setup, deps.defaultRegion);
  const log = deps.logger.child({ sessetup: setup.metadata.name });
  if (target.retain) await retain(setup, target, deps);
  else {
    const result = await tearDown(deps.ses, target.region, target.tenantName, target.domain, target.ownerUid, deps.sesCall);
    log.warn({ uid: setup.metadata.uid, region: target.region, ...result }, 'SesSetup was deleted without its finalizer being honoured; SES torn down');
  }
  // Not left to the garbage collector alone: it may come late, or not at all where it is off.
  if ((await unpublish(setup, deps.dnsEndpoints, log)).length > 0) log.warn({ uid: setup.metadata.uid }, 'its DNSEndpoint was deleted');
}

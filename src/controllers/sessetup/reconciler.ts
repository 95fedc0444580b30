import { isDeepStrictEqual } from 'node:util';
import { FINALIZER, VERIFY_ANNOTATION } from '../../api/group.ts';
import { sesSetupSpecSchema, type SesSetup, type SesSetupSpec, type SesSetupStatus } from '../../api/sessetup.ts';
import { desiredRecords } from '../../dns/desired-records.ts';
import type { DnsLookup } from '../../dns/lookup.ts';
import { assessRecords, dkimLive, lookupRecords } from '../../dns/verify-records.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { EventSink } from '../../runtime/events.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { ResourceClient } from '../../runtime/resource-client.ts';
import { identityArn, type SesGateway } from '../../ses/gateway.ts';
import type { ReferrerIndex } from '../referrers.ts';
import type { ClaimIndex } from './claims.ts';
import type { RecheckSchedule } from './recheck-schedule.ts';
import { ensureIdentity, ensureTenant, tearDown, type Owner } from './ses-resources.ts';
import { markRetained, retainTarget } from '../orphans/retained.ts';
import { allVerified, composeConditions, type Verdict } from './status.ts';

export interface SesSetupReconcilerDeps {
  /** population: setups by verified state, so re-checks of new setups are budgeted apart from verified ones (default: size() in one class). */
  setups: { get(name: string): SesSetup | undefined; size(): number; population?(): { verified: number; unverified: number } };
  claims: ClaimIndex;
  referrers: ReferrerIndex;
  ses: SesGateway;
  dns: DnsLookup;
  client: Pick<ResourceClient, 'patchStatus' | 'addFinalizer' | 'removeFinalizer'>;
  events: EventSink;
  logger: Logger;
  defaultRegion: string;
  schedule: RecheckSchedule;
  /** Most referrers listed in status.usedBy (the count is always exact). */
  usedByLimit?: number;
  now?: () => number;
  /** Told about every object this reconciler wrote, so the next read sees it (read-your-writes). */
  wrote?: (object: SesSetup) => void;
  /** Called once when a setup first becomes verified (the creation-to-verified histogram). */
  onVerified?: (setup: SesSetup) => void;
}

const NOT_YET = { ok: false, reason: 'Creating', message: 'not created yet' };

/**
 * Level-triggered reconcile of one SesSetup from the informer cache: SES tenant + identity +
 * association (exactly one call each on the happy path), the DNS records with live per-record
 * verification on schedule or on request, conditions, and teardown behind the finalizer.
 */
export class SesSetupReconciler {
  readonly #d: SesSetupReconcilerDeps;
  readonly #now: () => number;
  /** Setups deleted without their finalizer being honoured, by name: their SES resources still need a teardown. */
  readonly #vanished = new Map<string, SesSetup>();

  constructor(deps: SesSetupReconcilerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * The watch saw a SesSetup go. One that still carried our finalizer and never had a
   * deletionTimestamp was removed without the finalizer being honoured: kube-apiserver lets a
   * delete that read the object before our finalizer was added remove it anyway
   * (kubernetes/kubernetes#77988), while this reconciler goes on creating its SES resources.
   * The next reconcile of the name tears those down (by UID tag, as any teardown). Only for a
   * DELETED event: a delete noticed by a relist carries a stale state (its policy may have changed).
   */
  vanished(setup: SesSetup): void {
    if (setup.metadata.deletionTimestamp || !setup.metadata.finalizers?.includes(FINALIZER)) return;
    this.#vanished.set(setup.metadata.name, setup);
  }

  async reconcile(name: string): Promise<{ requeueAfterMs?: number } | void> {
    const vanished = this.#vanished.get(name);
    if (vanished) {
      await this.#tearDownVanished(vanished);
      this.#vanished.delete(name);
    }
    let setup = this.#d.setups.get(name);
    if (!setup) {
      this.#d.schedule.forget(name);
      return;
    }
    const log = this.#d.logger.child({ sessetup: name });
    const parsed = sesSetupSpecSchema.safeParse(setup.spec);
    if (!parsed.success) {
      // The CRD rejects this already; reaching here means an outdated CRD. Say so and wait for a fix.
      const message = `invalid spec: ${parsed.error.issues.map((issue) => `spec.${issue.path.join('.')}: ${issue.message}`).join('; ')}`;
      await this.#writeStatus(
        setup,
        this.#conditionsOnly(setup, {
          stalled: { reason: 'InvalidSpec', message },
          tenant: { ok: false, reason: 'InvalidSpec', message },
          identity: { ok: false, reason: 'InvalidSpec', message },
        }),
      );
      return;
    }
    const spec = parsed.data;
    const region = spec.region ?? this.#d.defaultRegion;
    if (setup.metadata.deletionTimestamp) return this.#finalize(setup, spec, region, log);

    if (!setup.metadata.finalizers?.includes(FINALIZER)) {
      // The finalizer must be stored before anything exists in SES, or a quick delete could leak it.
      setup = await this.#d.client.addFinalizer(setup, FINALIZER);
      this.#d.wrote?.(setup);
    }

    const conflict = this.#d.claims.conflictFor(setup);
    if (conflict) {
      const message = `${conflict.field} "${spec[conflict.field]}" is already claimed by SesSetup ${conflict.holder}; this SesSetup changes nothing in SES until that one is deleted or its ${conflict.field} differs`;
      const reason = conflict.field === 'tenantName' ? 'TenantNameConflict' : 'DomainConflict';
      this.#d.events.emit(setup, 'Warning', reason, message);
      const blocked = { ok: false, reason, message };
      await this.#writeStatus(setup, this.#conditionsOnly(setup, { tenant: blocked, identity: blocked, stalled: { reason, message } }));
      return;
    }

    const status: SesSetupStatus = structuredClone(setup.status ?? {});
    const owner: Owner = { uid: setup.metadata.uid ?? '', name, adopt: spec.adoptionPolicy === 'Adopt' };
    let identityCreatedNow = false;
    try {
      const outcome = await this.#ensureSes(setup, spec, region, owner, status, log);
      if ('blocked' in outcome) {
        const { blocked } = outcome;
        this.#d.events.emit(setup, 'Warning', blocked.reason, blocked.message);
        await this.#writeStatus(setup, this.#withConditions(setup, status, blocked.verdict));
        return;
      }
      identityCreatedNow = outcome.identityCreated;
    } catch (error) {
      // Keep what was created so far: the next attempt must not pay for it again.
      const message = error instanceof Error ? error.message : String(error);
      const failing = { ok: false, reason: 'SesError', message };
      const verdict: Verdict = {
        tenant: status.tenant?.arn ? { ok: true, reason: 'TenantReady', message: tenantMessage(status, region) } : failing,
        identity: failing,
      };
      await this.#writeStatus(setup, this.#withConditions(setup, status, verdict)).catch(() => {});
      throw error;
    }

    const delay = await this.#checkDns(setup, spec, region, status, identityCreatedNow, log);
    if (status.identity === undefined) {
      // The identity vanished in SES: record that, then create it again on the next pass.
      const missing = { ok: false, reason: 'IdentityMissing', message: `SES identity ${spec.domainIdentity} no longer exists; creating it again` };
      await this.#writeStatus(
        setup,
        this.#withConditions(setup, status, { tenant: { ok: true, reason: 'TenantReady', message: tenantMessage(status, region) }, identity: missing }),
      );
      return { requeueAfterMs: 1_000 };
    }
    const verdict: Verdict = {
      tenant: { ok: true, reason: 'TenantReady', message: tenantMessage(status, region) },
      identity: { ok: true, reason: 'IdentityReady', message: `identity ${spec.domainIdentity} exists and is associated with tenant ${spec.tenantName}` },
    };
    const next = this.#withConditions(setup, status, verdict);
    if (next.dnsVerified && !setup.status?.dnsVerified) {
      this.#d.events.emit(setup, 'Normal', 'Verified', `all ${next.dnsRecords?.length ?? 0} DNS records verified; the domain is ready to send`);
      this.#d.onVerified?.(setup);
    }
    try {
      await this.#writeStatus(setup, next);
    } catch (error) {
      // The check's result never reached the API server: the retry must check again, not wait for the next scheduled check.
      this.#d.schedule.dueNow(name);
      throw error;
    }
    return delay === undefined ? undefined : { requeueAfterMs: delay };
  }

  /** Tenant, identity, association: each skipped when status already records it. */
  async #ensureSes(
    setup: SesSetup,
    spec: SesSetupSpec,
    region: string,
    owner: Owner,
    status: SesSetupStatus,
    log: Logger,
  ): Promise<{ blocked: { reason: string; message: string; verdict: Verdict } } | { identityCreated: boolean }> {
    if (!(status.tenant?.arn && status.tenant.name === spec.tenantName)) {
      const tenant = await ensureTenant(this.#d.ses, region, spec.tenantName, owner);
      if (!tenant.ok) {
        const blocked = { ok: false, reason: tenant.reason, message: tenant.message };
        return { blocked: { ...tenant, verdict: { tenant: blocked, identity: NOT_YET, stalled: { reason: tenant.reason, message: tenant.message } } } };
      }
      status.tenant = {
        name: spec.tenantName,
        id: tenant.value.id,
        arn: tenant.value.arn,
        sendingStatus: tenant.value.sendingStatus,
        ...(tenant.adopted ? { adopted: true } : {}),
      };
      log.info({ created: tenant.created, adopted: tenant.adopted }, 'tenant ready');
      this.#d.events.emit(
        setup,
        'Normal',
        tenant.adopted ? 'TenantAdopted' : 'TenantReady',
        `SES tenant ${spec.tenantName} ${tenant.adopted ? 'adopted' : tenant.created ? 'created' : 'found (created earlier by this SesSetup)'} in ${region}`,
      );
    }
    const tenantArn = status.tenant.arn!;
    let identityCreated = false;
    if (!(status.identity?.dkimTokens?.length && status.identity.name === spec.domainIdentity)) {
      const identity = await ensureIdentity(this.#d.ses, region, spec.domainIdentity, tenantArn, owner);
      if (!identity.ok) {
        const blocked = { ok: false, reason: identity.reason, message: identity.message };
        const tenantOk = { ok: true, reason: 'TenantReady', message: tenantMessage(status, region) };
        return { blocked: { ...identity, verdict: { tenant: tenantOk, identity: blocked, stalled: { reason: identity.reason, message: identity.message } } } };
      }
      status.identity = {
        name: spec.domainIdentity,
        arn: identityArn(tenantArn, spec.domainIdentity),
        dkimStatus: identity.value.dkimStatus,
        verificationStatus: identity.value.verificationStatus,
        verifiedForSending: identity.value.verifiedForSending,
        dkimTokens: identity.value.dkimTokens,
        signingHostedZone: identity.value.signingHostedZone,
        tenantAssociated: false,
        ...(identity.adopted ? { adopted: true } : {}),
      };
      identityCreated = identity.created;
      log.info({ created: identity.created, adopted: identity.adopted }, 'identity ready');
      this.#d.events.emit(
        setup,
        'Normal',
        identity.adopted ? 'IdentityAdopted' : 'IdentityReady',
        `SES identity ${spec.domainIdentity} ${identity.adopted ? 'adopted' : identity.created ? 'created' : 'found (created earlier by this SesSetup)'}`,
      );
    }
    if (!status.identity.tenantAssociated) {
      await this.#d.ses.associate(region, spec.tenantName, status.identity.arn!);
      status.identity.tenantAssociated = true;
    }
    return { identityCreated };
  }

  /** Runs a live check when one is due or asked for; returns the delay until the next. */
  async #checkDns(
    setup: SesSetup,
    spec: SesSetupSpec,
    region: string,
    status: SesSetupStatus,
    identityCreatedNow: boolean,
    log: Logger,
  ): Promise<number | undefined> {
    const name = setup.metadata.name;
    const identity = status.identity!;
    const desired = desiredRecords(spec, region, { tokens: identity.dkimTokens ?? [], signingHostedZone: identity.signingHostedZone });
    const verifyRequest = setup.metadata.annotations?.[VERIFY_ANNOTATION];
    const verifyRequested = verifyRequest !== undefined && verifyRequest !== status.lastHandledVerifyRequest;
    const recordsChanged = !sameRecords(status.dnsRecords, desired);
    const now = this.#now();
    const population = this.#d.setups.population?.() ?? this.#d.setups.size();
    const wasVerified = status.dnsVerified === true;
    if (!verifyRequested && !recordsChanged && !this.#d.schedule.isDue(name, wasVerified, population, now)) {
      return this.#d.schedule.delayUntilNext(name, now);
    }

    const results = await lookupRecords(desired, this.#d.dns);
    // SES cannot succeed before the CNAMEs are live, so its view is only asked for when it can tell something new.
    const askSes = !identityCreatedNow && (verifyRequested || dkimLive(desired, results) || identity.dkimStatus === 'SUCCESS');
    if (askSes) {
      const fresh = await this.#d.ses.getEmailIdentity(region, spec.domainIdentity);
      if (!fresh) {
        log.warn('identity is gone from SES; creating it again');
        this.#d.events.emit(setup, 'Warning', 'IdentityMissing', `SES identity ${spec.domainIdentity} no longer exists in SES; creating it again`);
        delete status.identity;
        return 0;
      }
      Object.assign(identity, {
        dkimStatus: fresh.dkimStatus,
        verificationStatus: fresh.verificationStatus,
        verifiedForSending: fresh.verifiedForSending,
      });
      if (fresh.dkimTokens.length) identity.dkimTokens = fresh.dkimTokens;
    }
    const records = assessRecords(desired, results, identity.dkimStatus);
    const verified = allVerified(records);
    const changed = !isDeepStrictEqual(records, status.dnsRecords);
    status.dnsRecords = records;
    status.dnsVerified = verified;
    // A verified setup re-checked with the same result writes nothing: steady state costs no API writes.
    if (changed || !verified || verifyRequested || recordsChanged) status.dnsCheckedAt = new Date(now).toISOString();
    if (verifyRequested) status.lastHandledVerifyRequest = verifyRequest;
    log.debug({ verified, askedSes: askSes, verifyRequested }, 'dns checked');
    return this.#d.schedule.checked(name, verified, population, now);
  }

  async #tearDownVanished(setup: SesSetup): Promise<void> {
    const parsed = sesSetupSpecSchema.safeParse(setup.spec);
    if (!parsed.success) return;
    const spec = parsed.data;
    // h8-orphans: a vanished Retain setup's resources are tagged as retained, or the orphan sweep would delete them.
    if (spec.deletionPolicy === 'Retain') {
      const region = spec.region ?? this.#d.defaultRegion;
      await markRetained(this.#d.ses, retainTarget(setup, region));
      return;
    }
    const result = await tearDown(this.#d.ses, spec.region ?? this.#d.defaultRegion, spec.tenantName, spec.domainIdentity, setup.metadata.uid ?? '');
    this.#d.logger
      .child({ sessetup: setup.metadata.name })
      .warn({ uid: setup.metadata.uid, ...result }, 'SesSetup was deleted without its finalizer being honoured; SES torn down');
  }

  async #finalize(setup: SesSetup, spec: SesSetupSpec, region: string, log: Logger): Promise<void> {
    if (!setup.metadata.finalizers?.includes(FINALIZER)) return;
    const name = setup.metadata.name;
    const referrers = this.#d.referrers.referrers(name);
    if (referrers.length > 0) {
      const shown = referrers.slice(0, 10).join(', ') + (referrers.length > 10 ? `, and ${referrers.length - 10} more` : '');
      const message = `deletion waits for ${referrers.length} referrer(s) to be deleted: ${shown}`;
      this.#d.events.emit(setup, 'Warning', 'DeletionBlocked', message);
      const status = this.#withUsedBy(setup, structuredClone(setup.status ?? {}));
      const now = new Date(this.#now()).toISOString();
      const g = { observedGeneration: setup.metadata.generation };
      status.conditions = setCondition(status.conditions, { type: 'DeletionBlocked', status: 'True', reason: 'ReferencedBy', message, ...g }, now);
      status.conditions = setCondition(status.conditions, { type: 'Ready', status: 'False', reason: 'DeletionBlocked', message, ...g }, now);
      await this.#writeStatus(setup, status);
      return;
    }
    if (spec.deletionPolicy === 'Retain') {
      // h8-orphans: tag what Retain keeps so the orphan sweep never deletes it (move into the finalize module).
      await markRetained(this.#d.ses, retainTarget(setup, region));
      this.#d.events.emit(
        setup,
        'Normal',
        'Retained',
        `deletionPolicy Retain: SES tenant ${spec.tenantName} and identity ${spec.domainIdentity} are kept in SES`,
      );
    } else {
      const result = await tearDown(this.#d.ses, region, spec.tenantName, spec.domainIdentity, setup.metadata.uid ?? '');
      log.info(result, 'SES torn down');
      for (const [what, label] of [
        ['identity', `identity ${spec.domainIdentity}`],
        ['tenant', `tenant ${spec.tenantName}`],
      ] as const) {
        if (result[what] === 'deleted') this.#d.events.emit(setup, 'Normal', 'Deleted', `SES ${label} deleted`);
        if (result[what] === 'not-owned')
          this.#d.events.emit(setup, 'Warning', 'NotOwned', `SES ${label} was not created by this SesSetup and was left in place`);
      }
    }
    const released = await this.#d.client.removeFinalizer(setup, FINALIZER);
    this.#d.wrote?.(released);
    this.#d.schedule.forget(name);
  }

  #conditionsOnly(setup: SesSetup, verdict: Verdict): SesSetupStatus {
    return this.#withConditions(setup, structuredClone(setup.status ?? {}), verdict);
  }

  #withConditions(setup: SesSetup, status: SesSetupStatus, verdict: Verdict): SesSetupStatus {
    const now = new Date(this.#now()).toISOString();
    status.observedGeneration = setup.metadata.generation;
    status.conditions = composeConditions(status.conditions, verdict, status.dnsRecords, setup.metadata.generation, now);
    return this.#withUsedBy(setup, status);
  }

  #withUsedBy(setup: SesSetup, status: SesSetupStatus): SesSetupStatus {
    const referrers = this.#d.referrers.referrers(setup.metadata.name);
    if (referrers.length === 0) {
      delete status.usedBy;
      delete status.usedByCount;
    } else {
      status.usedBy = referrers.slice(0, this.#d.usedByLimit ?? 20);
      status.usedByCount = referrers.length;
    }
    return status;
  }

  async #writeStatus(setup: SesSetup, status: SesSetupStatus): Promise<void> {
    const stored = await this.#d.client.patchStatus(setup, status);
    if (stored) this.#d.wrote?.(stored);
  }
}

function tenantMessage(status: SesSetupStatus, region: string): string {
  return `tenant ${status.tenant?.name} (${status.tenant?.id ?? 'id unknown'}) exists in ${region}`;
}

/** Same names, types and values, regardless of verification state: a new DKIM token or DMARC policy means a fresh check. */
function sameRecords(current: SesSetupStatus['dnsRecords'], desired: { name: string; type: string; value: string }[]): boolean {
  if (!current || current.length !== desired.length) return false;
  return desired.every((record, index) => {
    const have = current[index]!;
    return have.name === record.name && have.type === record.type && have.value === record.value;
  });
}

import { FINALIZER, REGION_ANNOTATION } from '../../api/group.ts';
import { sesSetupSpecSchema, type SesSetup, type SesSetupSpec, type SesSetupStatus } from '../../api/sessetup.ts';
import type { DnsLookup } from '../../dns/lookup.ts';
import type { EventSink } from '../../runtime/events.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { ResourceClient } from '../../runtime/resource-client.ts';
import type { SesCallOptions, SesCallPriority, SesGateway } from '../../ses/gateway.ts';
import { accessDeniedVerdict, isAccessDenied } from './access-denied.ts';
import type { ReferrerIndex } from '../referrers.ts';
import { countedReferrers, type NamespaceLabels } from '../tenancy.ts';
import type { ClaimIndex } from './claims.ts';
import type { DnsEndpointAccess } from './dns-endpoints.ts';
import { finalize, tearDownVanished, type FinalizeDeps } from './finalize.ts';
import type { RecheckSchedule } from './recheck-schedule.ts';
import { pinnedRegion, recordedRegion } from './region.ts';
import { FACT_KEYS, type Facts, type Happening, type Step, type StepDeps, type StepResult, type Verdicts } from './step.ts';
import { SES_SETUP_STEPS } from './steps/index.ts';
import { pendingVerifyRequest } from './steps/verify-request.ts';
import { summarize, type Outcome } from './summarize.ts';

export interface SesSetupReconcilerDeps {
  /** population: setups by verified state, so re-checks of new setups are budgeted apart from verified ones (default: size() in one class). */
  setups: { get(name: string): SesSetup | undefined; size(): number; population?(): { verified: number; unverified: number } };
  claims: ClaimIndex;
  referrers: ReferrerIndex;
  /** Namespace labels, for spec.allowedNamespaces: referrers from other namespaces do not count. */
  namespaces?: NamespaceLabels;
  ses: SesGateway;
  dns: DnsLookup;
  client: Pick<ResourceClient, 'patchStatus' | 'addFinalizer' | 'removeFinalizer' | 'read'>;
  events: EventSink;
  logger: Logger;
  /** The region of setups SES has not seen yet and that name none; a setup keeps the region it was created in. */
  defaultRegion: string;
  schedule: RecheckSchedule;
  /** Most referrers listed in status.usedBy (the count is always exact). */
  usedByLimit?: number;
  now?: () => number;
  /** Told about every object this reconciler wrote, so the next read sees it (read-your-writes). */
  wrote?: (object: SesSetup) => void;
  /** Called once when a setup first becomes verified (the creation-to-verified histogram). */
  onVerified?: (setup: SesSetup) => void;
  /** The operator's DNSEndpoints (dnsPublication ExternalDNS); undefined when no namespace for them is known. */
  dnsEndpoints?: DnsEndpointAccess;
  /** The reconcile's steps, in order (default: SES_SETUP_STEPS). */
  steps?: readonly Step[];
}

/** What running the steps produced, beyond the outcome summarize reads. */
interface StepsRun {
  outcome: Extract<Outcome, { kind: 'steps' }>;
  requeueAfterMs?: number;
  checkBooked: boolean;
}

/**
 * Level-triggered reconcile of one SesSetup from the informer cache, in the shape of Flux's
 * source-controller: fetch; deletion first (it needs no valid spec); the finalizer; the steps
 * (region, claims, tenant, identity, association, dns), each reporting what it learned and
 * concluded; one summarize into conditions and Events; one status patch.
 */
export class SesSetupReconciler {
  readonly #d: SesSetupReconcilerDeps;
  readonly #now: () => number;
  readonly #steps: readonly Step[];
  /** Setups deleted without their finalizer being honoured, by name: their SES resources still need a teardown. */
  readonly #vanished = new Map<string, SesSetup>();

  constructor(deps: SesSetupReconcilerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#steps = deps.steps ?? SES_SETUP_STEPS;
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

  /** `signal`: aborted when the controller gives up on this reconcile (shutdown); no further step starts. */
  async reconcile(name: string, context: { signal?: AbortSignal } = {}): Promise<ReconcileResult | void> {
    const vanished = this.#vanished.get(name);
    if (vanished) {
      // Its deletion is over: nobody waits on this teardown, unless a new setup of the same name does (its steps come after).
      const priority = this.#d.setups.get(name) ? 'urgent' : 'routine';
      await tearDownVanished(vanished, this.#finalizeDeps({ signal: context.signal, priority }));
      this.#vanished.delete(name);
    }
    let setup = this.#d.setups.get(name);
    if (!setup) {
      this.#d.schedule.forget(name);
      return;
    }

    if (setup.metadata.deletionTimestamp) {
      // A `kubectl delete` waits on the teardown.
      const outcome = await finalize(setup, this.#finalizeDeps({ signal: context.signal, priority: 'urgent' }));
      if (outcome.kind === 'released') this.#d.schedule.forget(name);
      await this.#summarizeAndPatch(setup, outcome);
      if (outcome.kind !== 'failed') return;
      // A denied teardown waits for a person to fix IAM: retried slowly, not by the fast backoff.
      if (isAccessDenied(outcome.error)) return { requeueAfterMs: this.#d.schedule.slowRetryMs() };
      throw outcome.error;
    }

    const parsed = sesSetupSpecSchema.safeParse(setup.spec);
    if (!parsed.success) {
      // The CRD rejects this already; reaching here means an outdated CRD. Say so and wait for a fix.
      const message = `invalid spec: ${parsed.error.issues.map((issue) => `spec.${issue.path.join('.')}: ${issue.message}`).join('; ')}`;
      const invalid = { ok: false, reason: 'InvalidSpec', message };
      const verdicts = { tenant: invalid, identity: invalid, stalled: { reason: 'InvalidSpec', message } };
      await this.#summarizeAndPatch(setup, { kind: 'steps', facts: factsOf(setup.status), verdicts, happened: [] });
      return;
    }

    // The region is stored before the first SES call, like the finalizer: a crash between a create and the status
    // write, then a restart with another default region, would otherwise create it again there and leak the first.
    const unpinned = parsed.data.region === undefined && recordedRegion(setup) === undefined;
    if (!setup.metadata.finalizers?.includes(FINALIZER)) {
      // The finalizer must be stored before anything exists in SES, or a quick delete could leak it.
      setup = await this.#d.client.addFinalizer(setup, FINALIZER, unpinned ? { [REGION_ANNOTATION]: this.#d.defaultRegion } : {});
      this.#d.wrote?.(setup);
      // A delete that raced this write can still remove the object after the write succeeded
      // (kubernetes/kubernetes#77988): read it back before anything exists in SES, or that delete leaks it.
      const stored = await this.#d.client.read(setup);
      if (stored?.metadata.uid !== setup.metadata.uid) {
        this.#d.logger.info({ sessetup: name }, 'deleted while its finalizer was being added; nothing was created in SES');
        return;
      }
    }

    if (parsed.data.region === undefined && recordedRegion(setup) === undefined) {
      // A setup that got its finalizer before the pin existed (an older operator): a status write of its own.
      const pinned = await this.#d.client.patchStatus(setup, { ...setup.status, region: this.#d.defaultRegion });
      if (pinned) {
        setup = pinned;
        this.#d.wrote?.(setup);
      }
    }

    const run = await this.#runSteps(setup, parsed.data, context.signal);
    try {
      await this.#summarizeAndPatch(setup, run.outcome);
    } catch (error) {
      // The check's result never reached the API server: the retry must check again, not wait for the next scheduled check.
      if (run.checkBooked) this.#d.schedule.dueNow(name);
      throw run.outcome.error ?? error;
    }
    if (run.outcome.error !== undefined) throw run.outcome.error;
    if (run.requeueAfterMs === undefined) return;
    // The next check of a verified setup is upkeep: a setup someone waits on goes before it in the work queue.
    return { requeueAfterMs: run.requeueAfterMs, priority: sesCallPriority(setup, run.outcome.facts) };
  }

  /** The steps in order, each seeing the facts learned so far, until one stops the chain or fails. */
  async #runSteps(setup: SesSetup, spec: SesSetupSpec, signal: AbortSignal | undefined): Promise<StepsRun> {
    const log = this.#d.logger.child({ sessetup: setup.metadata.name });
    const region = pinnedRegion(setup, this.#d.defaultRegion);
    const deps: StepDeps = {
      ses: this.#d.ses,
      dns: this.#d.dns,
      claims: this.#d.claims,
      schedule: this.#d.schedule,
      population: () => this.#d.setups.population?.() ?? this.#d.setups.size(),
      now: this.#now,
      dnsEndpoints: this.#d.dnsEndpoints,
    };
    let facts = factsOf(setup.status);
    // A setup created before status.region existed: pin the region its ARNs carry.
    if (facts.region === undefined && (facts.tenant || facts.identity)) facts.region = recordedRegion(setup) ?? region;
    const sesCall = { signal, priority: sesCallPriority(setup, facts) };
    const verdicts: Verdicts = {};
    const happened: Happening[] = [];
    let tenantCreatedNow = false;
    let identityCreatedNow = false;
    let identityReadNow = false;
    let identityCreatedAt: number | undefined;
    let checkBooked = false;
    let requeueAfterMs: number | undefined;
    let error: unknown;
    for (const step of this.#steps) {
      if (signal?.aborted) {
        // What earlier steps created is still written down, so the next run does not pay for it again.
        error = signal.reason ?? new Error('reconcile aborted');
        break;
      }
      const result: StepResult = await step
        .run({ setup, spec, region, facts, tenantCreatedNow, identityCreatedNow, identityCreatedAt, identityReadNow, log, signal, sesCall }, deps)
        .catch((thrown: unknown) => ({ error: thrown }));
      facts = { ...facts, ...result.learned };
      Object.assign(verdicts, result.verdicts);
      happened.push(...(result.happened ?? []));
      tenantCreatedNow ||= result.tenantCreatedNow === true;
      identityCreatedNow ||= result.identityCreatedNow === true;
      identityReadNow ||= result.identityReadNow === true;
      identityCreatedAt ??= result.identityCreatedAt;
      checkBooked ||= result.checkBooked === true;
      if (result.requeueAfterMs !== undefined) requeueAfterMs = result.requeueAfterMs;
      if (result.error !== undefined) {
        log.debug({ step: step.name }, 'step failed');
        if (isAccessDenied(result.error)) {
          const denied = accessDeniedVerdict(result.error, this.#d.schedule.slowRetryMs());
          // Only a person can grant it: Stalled, retried slowly, not the work queue's fast backoff.
          log.warn({ err: result.error }, 'SES denied a call');
          verdicts.tenant ??= denied;
          verdicts.identity ??= denied;
          verdicts.stalled = denied;
          requeueAfterMs = this.#d.schedule.slowRetryMs();
          break;
        }
        error = result.error;
        break;
      }
      if (result.stop) break;
    }
    return { outcome: { kind: 'steps', facts, verdicts, happened, ...(error === undefined ? {} : { error }) }, requeueAfterMs, checkBooked };
  }

  /** Summarize, send the Events, and write status once (only what changed). */
  async #summarizeAndPatch(setup: SesSetup, outcome: Outcome): Promise<void> {
    const summary = summarize(setup, outcome, {
      referrers: countedReferrers(setup, this.#d.referrers, this.#d.namespaces),
      usedByLimit: this.#d.usedByLimit ?? 20,
      now: new Date(this.#now()).toISOString(),
    });
    for (const event of summary.events) this.#d.events.emit(setup, event.type, event.reason, event.message);
    if (summary.verifiedNow) this.#d.onVerified?.(setup);
    if (!summary.status) return;
    const stored = await this.#d.client.patchStatus(setup, summary.status);
    if (stored) this.#d.wrote?.(stored);
  }

  #finalizeDeps(sesCall: SesCallOptions): FinalizeDeps {
    const { ses, referrers, namespaces, client, logger, defaultRegion, wrote, dnsEndpoints } = this.#d;
    return { ses, referrers, namespaces, client, logger, defaultRegion, wrote, dnsEndpoints, sesCall, deniedRetryMs: this.#d.schedule.slowRetryMs() };
  }
}

/**
 * How this reconcile's SES calls queue for the shared rate limit: urgent while someone waits on the
 * setup (not verified yet: a new setup on its way to Ready; or a verify request from the REST API's
 * refresh, `ses-operator verify`, `kubectl ses verify`), routine for the upkeep of a verified one.
 */
function sesCallPriority(setup: SesSetup, facts: Readonly<Facts>): SesCallPriority {
  return facts.dnsVerified !== true || pendingVerifyRequest(setup, facts) !== undefined ? 'urgent' : 'routine';
}

/** The facts status records, as the steps start from them. */
function factsOf(status: SesSetupStatus | undefined): Facts {
  const facts: Facts = {};
  for (const key of FACT_KEYS) if (status?.[key] !== undefined) (facts as Record<string, unknown>)[key] = structuredClone(status[key]);
  return facts;
}

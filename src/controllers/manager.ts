import { EMAIL_USE_CASE, GROUP, SES_SETUP, VERSION } from '../api/group.ts';
import type { EmailUseCase } from '../api/emailusecase.ts';
import { objectKey, type KubeObject } from '../api/meta.ts';
import type { SesSetup } from '../api/sessetup.ts';
import type { DnsLookup } from '../dns/lookup.ts';
import { Controller, type ControllerMetrics } from '../runtime/controller.ts';
import { EventRecorder, type EventSink } from '../runtime/events.ts';
import { Informer, type AddInfo } from '../runtime/informer.ts';
import type { KubeAccess } from '../runtime/kube-http.ts';
import type { Logger } from '../runtime/logger.ts';
import { ReadYourWrites } from '../runtime/read-your-writes.ts';
import { ResourceClient } from '../runtime/resource-client.ts';
import { WorkQueue, type QueuePriority, type WorkQueueMetricsProvider } from '../runtime/work-queue.ts';
import { observingCheckPeriod } from '../ses/check-period.ts';
import type { SesGateway } from '../ses/gateway.ts';
import { kubeConfigMaps } from './emailusecase/configmap.ts';
import { EmailUseCaseReconciler } from './emailusecase/reconciler.ts';
import { OrphanSweeper, type OrphanSweepOptions } from './orphans/sweeper.ts';
import { ReferrerIndex, type ReferrerKind } from './referrers.ts';
import { ClaimIndex } from './sessetup/claims.ts';
import { DnsEndpoints } from './sessetup/dns-endpoints.ts';
import { RecheckSchedule, type RecheckSettings } from './sessetup/recheck-schedule.ts';
import { SesSetupReconciler } from './sessetup/reconciler.ts';
import { countedReferrers, fencesNamespaces, type NamespaceLabels } from './tenancy.ts';
import {
  dnsEndpointChanged,
  dnsEndpointDeleted,
  dnsEndpointsSynced,
  namespaceAdded,
  namespaceUpdated,
  referrerChanged,
  referrerDeleted,
  setupAdded,
  setupDeleted,
  setupUpdated,
  useCaseAdded,
  useCaseDeleted,
  useCaseUpdated,
  type DnsEndpointWake,
  type NamespaceMeta,
  type Wake,
} from './watches.ts';

export interface ManagerOptions {
  kc: KubeAccess;
  ses: SesGateway;
  dns: DnsLookup;
  logger: Logger;
  defaultRegion: string;
  concurrency: number;
  recheck: RecheckSettings;
  referrerKinds?: ReferrerKind[];
  /** Where SesSetups with dnsPublication ExternalDNS keep their DNSEndpoint (none: those setups say so in a condition). */
  dnsEndpointNamespace?: string;
  events?: EventSink;
  controllerMetrics?: ControllerMetrics;
  queueMetrics?: WorkQueueMetricsProvider;
  /** Counts every API write (for "no-op reconciles write nothing" checks and benchmarks). */
  onApiWrite?: (resource: string, verb: string) => void;
  onVerified?: (setup: SesSetup) => void;
  /** Each SesSetup as the informer sees it (undefined once deleted): per-setup metrics. */
  observeSetup?: (name: string, setup: SesSetup | undefined) => void;
  /** The orphan sweep's schedule (leader only; absent or intervalMs 0: off). */
  orphanSweep?: Pick<OrphanSweepOptions, 'intervalMs' | 'graceMs' | 'onSwept'>;
}

/**
 * Wires the data flow one way: informers -> work queues -> reconcilers -> SES/DNS -> status.
 * Events are filtered so the operator's own status writes do not wake it up again.
 */
export class Manager {
  readonly setupInformer: Informer<SesSetup>;
  readonly useCaseInformer: Informer<EmailUseCase>;
  readonly referrerInformers: { kind: ReferrerKind; informer: Informer<KubeObject> }[];
  /** Namespaces' names and labels only, for SesSetups' spec.allowedNamespaces (namespaces are few: always watched). */
  readonly namespaceInformer: Informer<NamespaceMeta>;
  readonly setupController: Controller;
  readonly useCaseController: Controller;
  readonly referrers = new ReferrerIndex();
  /** Namespace labels as the informer holds them, for what a setup's allowedNamespaces admits. */
  readonly namespaces: NamespaceLabels;
  readonly claims = new ClaimIndex();
  /** Watched only once a setup asks for ExternalDNS, and outside health(): a cluster without external-dns lacks the CRD. */
  readonly dnsEndpoints: DnsEndpoints | undefined;
  readonly #schedule: RecheckSchedule;
  readonly orphanSweeper: OrphanSweeper | undefined;
  readonly #setups: ReadYourWrites<SesSetup>;
  readonly #useCases: ReadYourWrites<EmailUseCase>;
  readonly #logger: Logger;
  readonly #observeSetup: ManagerOptions['observeSetup'];
  readonly #setupReconciler: SesSetupReconciler;
  /** SesSetups in the cache whose status says every record is verified (kept from informer events, O(1) to read). */
  #verified = 0;

  constructor(o: ManagerOptions) {
    this.#logger = o.logger;
    this.#observeSetup = o.observeSetup;
    const path = (plural: string) => `/apis/${GROUP}/${VERSION}/${plural}`;
    // Packed: at scale the parsed objects alone would take a large share of the pod's memory limit (bench/RESULTS.md).
    this.setupInformer = new Informer<SesSetup>({ kc: o.kc, path: path(SES_SETUP.plural), logger: o.logger, packed: true });
    this.useCaseInformer = new Informer<EmailUseCase>({ kc: o.kc, path: path(EMAIL_USE_CASE.plural), logger: o.logger });
    this.referrerInformers = (o.referrerKinds ?? []).map((kind) => ({
      kind,
      informer: new Informer<KubeObject>({
        kc: o.kc,
        path: kind.group ? `/apis/${kind.group}/${kind.version}/${kind.resource}` : `/api/${kind.version}/${kind.resource}`,
        logger: o.logger,
      }),
    }));
    this.namespaceInformer = new Informer<NamespaceMeta>({ kc: o.kc, path: '/api/v1/namespaces', logger: o.logger, transform: namespaceMeta });
    const namespaces: NamespaceLabels = { labels: (name) => this.namespaceInformer.get(name)?.metadata.labels };
    this.namespaces = namespaces;
    this.#setups = new ReadYourWrites(this.setupInformer);
    this.#useCases = new ReadYourWrites(this.useCaseInformer);

    const ref = (plural: string) => ({ group: GROUP, version: VERSION, plural });
    const setupClient = new ResourceClient(o.kc, ref(SES_SETUP.plural), (verb) => o.onApiWrite?.(SES_SETUP.plural, verb));
    const useCaseClient = new ResourceClient(o.kc, ref(EMAIL_USE_CASE.plural), (verb) => o.onApiWrite?.(EMAIL_USE_CASE.plural, verb));
    const events = o.events ?? new EventRecorder(o.kc, { component: 'ses-operator', logger: o.logger });

    this.#schedule = new RecheckSchedule(o.recheck);
    // Every identity read tells how long ago SES last checked it: the schedule learns SES's period from that, and a
    // setup waiting for SES's look, planned with a longer estimate, is looked at sooner once the estimate falls.
    const ses = observingCheckPeriod(o.ses, this.#schedule.sesCheckPeriod, Date.now, () => {
      for (const { name, delayMs } of this.#schedule.replanFirstLooks(() => this.#population(), Date.now())) {
        this.setupController.queue.addAfter(name, delayMs);
        ses.expectUrgentCallIn?.(delayMs);
      }
    });
    this.dnsEndpoints =
      o.dnsEndpointNamespace === undefined
        ? undefined
        : new DnsEndpoints({ kc: o.kc, namespace: o.dnsEndpointNamespace, logger: o.logger, onWrite: (verb) => o.onApiWrite?.('dnsendpoints', verb) });
    const setupReconciler = (this.#setupReconciler = new SesSetupReconciler({
      setups: { get: (name) => this.#setups.get(name), size: () => this.setupInformer.size(), population: () => this.#population() },
      claims: this.claims,
      referrers: this.referrers,
      namespaces,
      ses,
      dns: o.dns,
      client: setupClient,
      events,
      logger: o.logger,
      defaultRegion: o.defaultRegion,
      schedule: this.#schedule,
      dnsEndpoints: this.dnsEndpoints,
      wrote: (object) => this.#setups.wrote(object),
      onVerified: o.onVerified,
    }));
    const useCaseReconciler = new EmailUseCaseReconciler({
      useCases: { get: (key) => this.#useCases.get(key) },
      setups: { get: (name) => this.#setups.get(name) },
      namespaces,
      client: useCaseClient,
      wrote: (object) => this.#useCases.wrote(object),
      configMaps: kubeConfigMaps(o.kc, (verb) => o.onApiWrite?.('configmaps', verb)),
      defaultRegion: o.defaultRegion,
    });
    this.setupController = new Controller({
      name: 'sessetup',
      concurrency: o.concurrency,
      // A due re-check finishes a setup on its way to Ready; a watch event's key may only start one.
      // Routine re-checks wait on SES's routine tokens: they never take the last free worker.
      queue: new WorkQueue({
        name: 'sessetup',
        metrics: o.queueMetrics,
        dueFirst: true,
        routineInFlightLimit: o.concurrency - 1,
      }),
      reconcile: (key, context) => setupReconciler.reconcile(key, context),
      logger: o.logger,
      metrics: o.controllerMetrics,
    });
    this.useCaseController = new Controller({
      name: 'emailusecase',
      concurrency: Math.max(1, Math.ceil(o.concurrency / 2)),
      queue: new WorkQueue({ name: 'emailusecase', metrics: o.queueMetrics }),
      reconcile: (key) => useCaseReconciler.reconcile(key),
      logger: o.logger,
      metrics: o.controllerMetrics,
    });
    if (o.orphanSweep) {
      this.orphanSweeper = new OrphanSweeper({
        ...o.orphanSweep,
        ses,
        setups: () => this.setupInformer.values(),
        synced: () => this.health().synced,
        defaultRegion: o.defaultRegion,
        logger: o.logger.child({ component: 'orphan-sweep' }),
        dnsEndpoints: this.dnsEndpoints,
      });
    }
    this.#wireSetups();
    this.#wireUseCases();
    for (const { kind, informer } of this.referrerInformers) this.#wireReferrers(kind, informer);
    this.#wireDnsEndpoints();
    this.#wireNamespaces();
  }

  /** Starts informers and waits for their caches. Every replica does this, so a standby takes over warm. */
  async startInformers(signal?: AbortSignal): Promise<void> {
    const informers = this.#informers();
    for (const informer of informers) informer.start();
    await Promise.all(informers.map((informer) => informer.waitForSync(signal)));
    this.#logger.info({ sessetups: this.setupInformer.size() }, 'caches synced');
  }

  /** Starts reconciling: only the leader does. */
  startControllers(): void {
    this.setupController.start();
    this.useCaseController.start();
    this.orphanSweeper?.start();
  }

  /** Stops taking work and lets in-flight reconciles finish within graceMs (0: abort them now). */
  async stopControllers(graceMs: number): Promise<void> {
    await Promise.all([this.setupController.stop(graceMs), this.useCaseController.stop(graceMs), this.orphanSweeper?.stop()]);
  }

  async stopInformers(): Promise<void> {
    await Promise.all([...this.#informers().map((informer) => informer.stop()), this.dnsEndpoints?.stop()]);
  }

  /** Informers, then controllers (tests and single-replica runs). */
  async start(signal?: AbortSignal): Promise<void> {
    await this.startInformers(signal);
    this.startControllers();
  }

  async stop(graceMs = 10_000): Promise<void> {
    await this.stopControllers(graceMs);
    await this.stopInformers();
  }

  #informers(): Informer<KubeObject>[] {
    return [
      this.setupInformer,
      this.useCaseInformer,
      this.namespaceInformer,
      ...this.referrerInformers.map((r) => r.informer),
    ] as unknown as Informer<KubeObject>[];
  }

  /** SES's DKIM check period as the re-check schedule currently estimates it (ms). */
  sesCheckPeriodMs(): number {
    return this.#schedule.sesCheckPeriod.estimateMs();
  }

  /** Informers synced (readiness) and none stuck failing (liveness). */
  health(): { synced: boolean; healthy: boolean; informers: Record<string, ReturnType<Informer<KubeObject>['health']>> } {
    const all: [string, Informer<KubeObject>][] = [
      [SES_SETUP.plural, this.setupInformer as unknown as Informer<KubeObject>],
      [EMAIL_USE_CASE.plural, this.useCaseInformer as unknown as Informer<KubeObject>],
      ['namespaces', this.namespaceInformer as unknown as Informer<KubeObject>],
      ...this.referrerInformers.map((r): [string, Informer<KubeObject>] => [`${r.kind.group}/${r.kind.resource}`, r.informer]),
    ];
    const informers = Object.fromEntries(all.map(([name, informer]) => [name, informer.health()]));
    const states = Object.values(informers);
    return {
      synced: states.every((state) => state.synced),
      healthy: states.every((state) => state.consecutiveFailures < 10),
      informers,
    };
  }

  #population(): { verified: number; unverified: number } {
    return { verified: this.#verified, unverified: this.setupInformer.size() - this.#verified };
  }

  #wireSetups(): void {
    const indexes = { claims: this.claims, referrers: this.referrers };
    const verified = (setup: SesSetup) => (setup.status?.dnsVerified === true ? 1 : 0);
    this.setupInformer.addEventHandler({
      onAdd: (setup, info) => {
        this.#verified += verified(setup);
        this.#setups.observed(setup);
        this.#observeSetup?.(setup.metadata.name, setup);
        this.#wake(setupAdded(setup, indexes), startUp(info));
      },
      onUpdate: (setup, old) => {
        this.#verified += verified(setup) - verified(old);
        this.#setups.observed(setup);
        this.#observeSetup?.(setup.metadata.name, setup);
        this.#wake(setupUpdated(setup, old, indexes));
      },
      onDelete: (setup, { finalStateUnknown }) => {
        if (!finalStateUnknown) this.#setupReconciler.vanished(setup);
        this.#verified -= verified(setup);
        this.#setups.deleted(setup.metadata.name);
        this.#observeSetup?.(setup.metadata.name, undefined);
        this.#wake(setupDeleted(setup, indexes));
      },
    });
  }

  #wireUseCases(): void {
    this.useCaseInformer.addEventHandler({
      onAdd: (useCase, info) => {
        this.#useCases.observed(useCase);
        this.#wake(useCaseAdded(useCase, this.referrers), startUp(info));
      },
      onUpdate: (useCase, old) => {
        this.#useCases.observed(useCase);
        this.#wake(useCaseUpdated(useCase, old, this.referrers));
      },
      onDelete: (useCase) => {
        this.#useCases.deleted(objectKey(useCase));
        this.#wake(useCaseDeleted(useCase, this.referrers));
      },
    });
  }

  #wireReferrers(kind: ReferrerKind, informer: Informer<KubeObject>): void {
    const wakeSetups = (setups: string[], priority?: QueuePriority) => this.#wake({ setups, useCases: [] }, priority);
    informer.addEventHandler({
      onAdd: (object, info) => wakeSetups(referrerChanged(kind, object, this.referrers), startUp(info)),
      onUpdate: (object) => wakeSetups(referrerChanged(kind, object, this.referrers)),
      onDelete: (object) => wakeSetups(referrerDeleted(kind, object, this.referrers)),
    });
  }

  #wireDnsEndpoints(): void {
    const wake = ({ setups, recheckNow }: DnsEndpointWake, priority?: QueuePriority) => {
      for (const name of recheckNow) this.#schedule.restart(name);
      this.#wake({ setups, useCases: [] }, priority);
    };
    // Setups waiting for a missing CRD otherwise wait for their next retry (the first list's catch-up, as below).
    void this.dnsEndpoints?.informer.waitForSync().then(() => this.#wake({ setups: dnsEndpointsSynced(this.setupInformer.values()), useCases: [] }, 'routine'));
    this.dnsEndpoints?.addEventHandler({
      onAdd: (endpoint, info) => wake(dnsEndpointChanged(endpoint, undefined), startUp(info)),
      onUpdate: (endpoint, old) => wake(dnsEndpointChanged(endpoint, old)),
      onDelete: (endpoint) => wake(dnsEndpointDeleted(endpoint)),
    });
  }

  /** The referrers that hold a setup's deletion: those from namespaces its allowedNamespaces admits. */
  countedReferrers(name: string): string[] {
    const setup = this.setupInformer.get(name);
    return setup ? countedReferrers(setup, this.referrers, this.namespaces) : this.referrers.referrers(name);
  }

  /** A namespace's labels decide which use cases the setups that fence namespaces admit. */
  #wireNamespaces(): void {
    const fences = (setup: string) => fencesNamespaces(this.#setups.get(setup));
    this.namespaceInformer.addEventHandler({
      onAdd: (namespace, info) => this.#wake(namespaceAdded(namespace, this.referrers, fences), startUp(info)),
      onUpdate: (namespace, old) => this.#wake(namespaceUpdated(namespace, old, this.referrers, fences)),
    });
  }

  #wake({ setups, useCases }: Wake, priority?: QueuePriority): void {
    for (const name of setups) this.setupController.queue.add(name, priority);
    for (const key of useCases) this.useCaseController.queue.add(key, priority);
  }
}

/**
 * What an informer's first list brings is a restart's catch-up, not a change someone waits on: it
 * queues as routine (controller-runtime's low priority for the initial list), so an object created
 * during a cold start goes before thousands of start-up reconciles.
 */
function startUp(info: AddInfo): QueuePriority {
  return info.initialList ? 'routine' : 'urgent';
}

/** Only what the fence reads: a cached Namespace costs its name and labels, not its spec and status. */
function namespaceMeta(namespace: NamespaceMeta): NamespaceMeta {
  const { name, resourceVersion, labels } = namespace.metadata;
  return { metadata: { name, resourceVersion, ...(labels ? { labels } : {}) } };
}

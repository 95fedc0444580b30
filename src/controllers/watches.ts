import { EMAIL_USE_CASE, VERIFY_ANNOTATION } from '../api/group.ts';
import type { EmailUseCase } from '../api/emailusecase.ts';
import { objectKey, type KubeObject } from '../api/meta.ts';
import type { SesSetup } from '../api/sessetup.ts';
import { readField, type ReferrerIndex, type ReferrerKind } from './referrers.ts';
import { claimKey, type ClaimIndex } from './sessetup/claims.ts';
import { generationObserved, SETUP_LABEL, type DnsEndpoint } from './sessetup/dns-endpoint.ts';
import { allowedNamespacesChanged } from './tenancy.ts';

/**
 * Which watch event wakes which work-queue keys, as named functions the manager wires to the
 * informers. Each keeps the claim and referrer indexes current for the object it is given and
 * returns the keys to enqueue; none touches a queue or the API server.
 */

/** The keys an event wakes: SesSetup names and EmailUseCase "namespace/name" keys. */
export interface Wake {
  setups: string[];
  useCases: string[];
}

export interface WatchIndexes {
  claims: ClaimIndex;
  referrers: ReferrerIndex;
}

const USE_CASE_PREFIX = `${EMAIL_USE_CASE.plural}/`;

/** The referrer id of an EmailUseCase in the referrer index. */
export function useCaseReferrerId(useCase: EmailUseCase): string {
  return `${USE_CASE_PREFIX}${objectKey(useCase)}`;
}

/** The referrer id of an object of a configured referrer kind. */
export function referrerId(kind: ReferrerKind, object: KubeObject): string {
  return `${kind.resource}.${kind.group}/${objectKey(object)}`;
}

/** The EmailUseCases that reference a setup (they follow its Ready and its deletion). */
export function useCasesOf(setup: string, referrers: Pick<ReferrerIndex, 'ids'>): string[] {
  return referrers
    .ids(setup)
    .filter((id) => id.startsWith(USE_CASE_PREFIX))
    .map((id) => id.slice(USE_CASE_PREFIX.length));
}

/**
 * Whether an update needs a reconcile of the setup: spec (generation), deletion, or a verify
 * request. The operator's own status writes change none of these, so they wake nothing.
 */
export function setupNeedsReconcile(setup: SesSetup, old: SesSetup): boolean {
  return (
    setup.metadata.generation !== old.metadata.generation ||
    setup.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
    setup.metadata.annotations?.[VERIFY_ANNOTATION] !== old.metadata.annotations?.[VERIFY_ANNOTATION]
  );
}

/** Whether the setup's use cases must look again: its Ready status or its deletion changed. */
export function setupReadinessChanged(setup: SesSetup, old: SesSetup): boolean {
  return readyStatus(setup) !== readyStatus(old) || !!setup.metadata.deletionTimestamp !== !!old.metadata.deletionTimestamp;
}

/** Whether what the use cases' ConfigMaps carry from the setup (identity ARN, region) changed. */
export function setupSendingConfigChanged(setup: SesSetup, old: SesSetup): boolean {
  return setup.status?.identity?.arn !== old.status?.identity?.arn || setup.status?.region !== old.status?.region;
}

/** Whether the setup's claims (tenantName, domainIdentity) or their order changed: re-index them then. */
export function claimsChanged(setup: SesSetup, old: SesSetup): boolean {
  return claimKey(setup) !== claimKey(old);
}

/** A SesSetup appeared: itself, every setup sharing a claim with it, and its use cases. */
export function setupAdded(setup: SesSetup, { claims, referrers }: WatchIndexes): Wake {
  const name = setup.metadata.name;
  return { setups: [...claims.set(setup), name], useCases: useCasesOf(name, referrers) };
}

/**
 * A SesSetup changed: the setups sharing an old or new claim when its claims moved; itself unless
 * only status changed; its use cases when its readiness or the namespaces it allows changed.
 */
export function setupUpdated(setup: SesSetup, old: SesSetup, { claims, referrers }: WatchIndexes): Wake {
  const name = setup.metadata.name;
  return {
    setups: [...(claimsChanged(setup, old) ? claims.set(setup) : []), ...(setupNeedsReconcile(setup, old) ? [name] : [])],
    useCases:
      setupReadinessChanged(setup, old) || setupSendingConfigChanged(setup, old) || allowedNamespacesChanged(setup, old) ? useCasesOf(name, referrers) : [],
  };
}

/** A SesSetup went: the setups that waited on its claims, its own name (a vanished teardown may be due), and its use cases. */
export function setupDeleted(setup: SesSetup, { claims, referrers }: WatchIndexes): Wake {
  const name = setup.metadata.name;
  return { setups: [...claims.remove(name), name], useCases: useCasesOf(name, referrers) };
}

/** The SesSetup an EmailUseCase names, when it names one. */
export function useCaseSetup(useCase: EmailUseCase): string | undefined {
  const name: unknown = useCase.spec?.sesSetupRef?.name;
  return typeof name === 'string' ? name : undefined;
}

/** Re-indexes a use case's reference; returns the setups whose referrers changed (usedBy, a waiting deletion). */
function trackUseCase(useCase: EmailUseCase, referrers: ReferrerIndex): string[] {
  return referrers.set(useCaseReferrerId(useCase), `${EMAIL_USE_CASE.kind} ${objectKey(useCase)}`, useCaseSetup(useCase), useCase.metadata.namespace);
}

/** An EmailUseCase appeared: itself, and the setup it references. */
export function useCaseAdded(useCase: EmailUseCase, referrers: ReferrerIndex): Wake {
  return { setups: trackUseCase(useCase, referrers), useCases: [objectKey(useCase)] };
}

/** An EmailUseCase changed: the setups whose referrers changed; itself only when its spec did (not for its own status writes). */
export function useCaseUpdated(useCase: EmailUseCase, old: EmailUseCase, referrers: ReferrerIndex): Wake {
  return {
    setups: trackUseCase(useCase, referrers),
    useCases: useCase.metadata.generation !== old.metadata.generation ? [objectKey(useCase)] : [],
  };
}

/** An EmailUseCase went: the setup it referenced (its deletion may be waiting on it). */
export function useCaseDeleted(useCase: EmailUseCase, referrers: ReferrerIndex): Wake {
  return { setups: referrers.remove(useCaseReferrerId(useCase)), useCases: [] };
}

/** An object of a configured referrer kind appeared or changed: the setups whose referrers changed. */
export function referrerChanged(kind: ReferrerKind, object: KubeObject, referrers: ReferrerIndex): string[] {
  return referrers.set(
    referrerId(kind, object),
    `${object.kind ?? kind.resource} ${objectKey(object)}`,
    readField(object, kind.fieldPath),
    object.metadata.namespace,
  );
}

/** An object of a configured referrer kind went: the setup it referenced. */
export function referrerDeleted(kind: ReferrerKind, object: KubeObject, referrers: ReferrerIndex): string[] {
  return referrers.remove(referrerId(kind, object));
}

/** What a DNSEndpoint event asks of its SesSetup: a reconcile, and whether its DNS check is due at once. */
export interface DnsEndpointWake {
  setups: string[];
  /** external-dns has just taken a new generation: its records are on their way into DNS, so check now, not on schedule. */
  recheckNow: string[];
}

/** The SesSetup a DNSEndpoint publishes, from the operator's label. */
export function dnsEndpointSetup(endpoint: DnsEndpoint): string | undefined {
  return endpoint.metadata.labels?.[SETUP_LABEL] || undefined;
}

/**
 * A DNSEndpoint of ours appeared, changed or went. Its setup is reconciled when the object appears
 * or goes (a hand-deleted one is recreated) and when anything but its status changed (a hand edit is
 * undone); external-dns reporting a new observedGeneration also makes the setup's DNS check due now.
 */
export function dnsEndpointChanged(endpoint: DnsEndpoint, old: DnsEndpoint | undefined): DnsEndpointWake {
  const setup = dnsEndpointSetup(endpoint);
  if (!setup) return { setups: [], recheckNow: [] };
  if (!old) return { setups: [setup], recheckNow: [] };
  const observedNow = generationObserved(endpoint) && old.status?.observedGeneration !== endpoint.status?.observedGeneration;
  const edited =
    endpoint.metadata.generation !== old.metadata.generation ||
    JSON.stringify(endpoint.metadata.labels) !== JSON.stringify(old.metadata.labels) ||
    JSON.stringify(endpoint.metadata.ownerReferences) !== JSON.stringify(old.metadata.ownerReferences);
  return { setups: observedNow || edited ? [setup] : [], recheckNow: observedNow ? [setup] : [] };
}

/** The DNSEndpoint watch listed for the first time (its CRD may just have been installed): the setups that ask for ExternalDNS look again now. */
export function dnsEndpointsSynced(setups: Iterable<SesSetup>): string[] {
  const names: string[] = [];
  for (const setup of setups) if (setup.spec?.dnsPublication === 'ExternalDNS') names.push(setup.metadata.name);
  return names;
}

/** A DNSEndpoint of ours went: its setup recreates it (or, being deleted itself, has nothing to do). */
export function dnsEndpointDeleted(endpoint: DnsEndpoint): DnsEndpointWake {
  const setup = dnsEndpointSetup(endpoint);
  return { setups: setup ? [setup] : [], recheckNow: [] };
}

/** The part of a Namespace the operator keeps: the fence reads only its labels. */
export interface NamespaceMeta {
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string> };
}

/** Whether a namespace's labels changed: nothing else about a namespace matters to the fence. */
export function namespaceLabelsChanged(namespace: NamespaceMeta, old: NamespaceMeta): boolean {
  const a = namespace.metadata.labels ?? {};
  const b = old.metadata.labels ?? {};
  const keys = Object.keys(a);
  return keys.length !== Object.keys(b).length || keys.some((key) => !Object.hasOwn(b, key) || a[key] !== b[key]);
}

/**
 * The referrers in a namespace whose setup fences namespaces, and those setups: what a change of
 * the namespace's labels may allow or refuse. Setups open to all namespaces are left asleep.
 */
export function namespaceReferrers(namespace: string, referrers: Pick<ReferrerIndex, 'inNamespace'>, fences: (setup: string) => boolean): Wake {
  const setups = new Set<string>();
  const useCases: string[] = [];
  for (const { id, setup } of referrers.inNamespace(namespace)) {
    if (!fences(setup)) continue;
    setups.add(setup);
    if (id.startsWith(USE_CASE_PREFIX)) useCases.push(id.slice(USE_CASE_PREFIX.length));
  }
  return { setups: [...setups], useCases };
}

/** A namespace appeared (or the watch delivered it late): its referrers are judged again with its real labels. */
export function namespaceAdded(namespace: NamespaceMeta, referrers: Pick<ReferrerIndex, 'inNamespace'>, fences: (setup: string) => boolean): Wake {
  return namespaceReferrers(namespace.metadata.name, referrers, fences);
}

/** A namespace changed: when its labels did, its referrers and their fencing setups. */
export function namespaceUpdated(
  namespace: NamespaceMeta,
  old: NamespaceMeta,
  referrers: Pick<ReferrerIndex, 'inNamespace'>,
  fences: (setup: string) => boolean,
): Wake {
  return namespaceLabelsChanged(namespace, old) ? namespaceReferrers(namespace.metadata.name, referrers, fences) : { setups: [], useCases: [] };
}

function readyStatus(setup: SesSetup): string | undefined {
  return setup.status?.conditions?.find((condition) => condition.type === 'Ready')?.status;
}

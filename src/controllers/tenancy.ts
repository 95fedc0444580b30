import type { SesSetup } from '../api/sessetup.ts';
import { formatLabelSelector, matchesLabelSelector } from '../runtime/label-selector.ts';
import type { CountsReferrer, ReferrerIndex } from './referrers.ts';

/**
 * Namespaces fenced: a SesSetup's spec.allowedNamespaces says which namespaces' EmailUseCases
 * (and configured referrers) may use it, as the Gateway API's allowedRoutes.namespaces does for
 * routes. Judged at read time from the namespace informer's labels, so a relabelled namespace or a
 * changed selector takes effect with the next reconcile its watch event wakes.
 */

/** Namespace labels as the namespace informer last saw them (undefined: not seen). */
export interface NamespaceLabels {
  labels(namespace: string): Readonly<Record<string, string>> | undefined;
}

/** No namespace seen: every namespace is judged by its name label alone. */
export const UNSEEN_NAMESPACES: NamespaceLabels = { labels: () => undefined };

/** The label the API server puts on every namespace, holding its name (selectors may name namespaces by it). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export type Admission = { allowed: true } | { allowed: false; message: string };

const ALLOWED: Admission = { allowed: true };

/** Whether a referrer in `namespace` may use `setup`; a cluster-scoped referrer (no namespace) always may. */
export function namespaceAdmission(setup: SesSetup, namespace: string | undefined, namespaces: NamespaceLabels): Admission {
  // Read defensively: the cache holds the stored spec, which an outdated CRD may not have validated.
  const allowed = setup.spec?.allowedNamespaces;
  if (namespace === undefined || allowed === undefined || allowed.from === undefined || allowed.from === 'All') return ALLOWED;
  const name = setup.metadata.name;
  if (allowed.from !== 'Selector' || !allowed.selector) {
    return {
      allowed: false,
      message: `SesSetup ${name} has spec.allowedNamespaces.from ${String(allowed.from)} without a selector, which allows no namespace`,
    };
  }
  // A namespace the watch has not delivered yet exists all the same (nothing can be created in a
  // missing one): judge it by the one label the API server gives every namespace.
  const labels = namespaces.labels(namespace) ?? { [NAMESPACE_NAME_LABEL]: namespace };
  if (matchesLabelSelector(allowed.selector, labels)) return ALLOWED;
  return {
    allowed: false,
    message: `namespace ${namespace} is not allowed to use SesSetup ${name}: its spec.allowedNamespaces admits only namespaces whose labels match "${formatLabelSelector(allowed.selector)}"; label the namespace to match, or change the setup's allowedNamespaces`,
  };
}

/** Which referrers of `setup` count (listed in usedBy, holding its deletion): those from namespaces it admits. */
export function countsFor(setup: SesSetup, namespaces: NamespaceLabels): CountsReferrer {
  return (namespace) => namespaceAdmission(setup, namespace, namespaces).allowed;
}

/** The referrers that count for a setup: status.usedBy lists them and its deletion waits for them. */
export function countedReferrers(setup: SesSetup, referrers: Pick<ReferrerIndex, 'referrers'>, namespaces: NamespaceLabels = UNSEEN_NAMESPACES): string[] {
  return referrers.referrers(setup.metadata.name, countsFor(setup, namespaces));
}

/** Whether the setup restricts namespaces at all: only then can a namespace's labels change what counts. */
export function fencesNamespaces(setup: SesSetup | undefined): boolean {
  const from = setup?.spec?.allowedNamespaces?.from;
  return from !== undefined && from !== 'All';
}

/** Whether a change to the setup may change which namespaces it admits. */
export function allowedNamespacesChanged(setup: SesSetup, old: SesSetup): boolean {
  return JSON.stringify(setup.spec?.allowedNamespaces ?? null) !== JSON.stringify(old.spec?.allowedNamespaces ?? null);
}

/** Whether a referrer in a namespace (undefined: a cluster-scoped referrer) counts for a setup. */
export type CountsReferrer = (namespace: string | undefined) => boolean;

interface Referrer {
  /** As people read it: "EmailUseCase billing/invoices". */
  display: string;
  namespace: string | undefined;
}

/**
 * Which objects reference which SesSetup, kept from the referrer informers' events, so deletion
 * can wait on them and resume the moment the last one goes (watch-driven, not polled). Every
 * reference is kept, whatever its namespace: whether it counts (a setup's allowedNamespaces) is
 * asked at read time, so a relabelled namespace or a new selector needs no re-indexing.
 */
export class ReferrerIndex {
  readonly #bySetup = new Map<string, Map<string, Referrer>>();
  readonly #setupOf = new Map<string, string>();
  readonly #byNamespace = new Map<string, Set<string>>();

  /** Records that `id` (shown as `display`, in `namespace`) references `setup` (or nothing); returns the setups whose referrers changed. */
  set(id: string, display: string, setup: string | undefined, namespace?: string): string[] {
    const previous = this.#setupOf.get(id);
    if (previous === setup) return [];
    const changed: string[] = [];
    if (previous !== undefined) {
      const referrers = this.#bySetup.get(previous);
      const gone = referrers?.get(id);
      referrers?.delete(id);
      if (referrers?.size === 0) this.#bySetup.delete(previous);
      if (gone?.namespace !== undefined) removeFrom(this.#byNamespace, gone.namespace, id);
      this.#setupOf.delete(id);
      changed.push(previous);
    }
    if (setup !== undefined) {
      let referrers = this.#bySetup.get(setup);
      if (!referrers) this.#bySetup.set(setup, (referrers = new Map()));
      referrers.set(id, { display, namespace });
      this.#setupOf.set(id, setup);
      if (namespace !== undefined) {
        let ids = this.#byNamespace.get(namespace);
        if (!ids) this.#byNamespace.set(namespace, (ids = new Set()));
        ids.add(id);
      }
      changed.push(setup);
    }
    return changed;
  }

  remove(id: string): string[] {
    return this.set(id, '', undefined);
  }

  /** The referrers of a setup that count (all, without `counts`), as people read them ("EmailUseCase billing/invoices"), sorted. */
  referrers(setup: string, counts?: CountsReferrer): string[] {
    const referrers = [...(this.#bySetup.get(setup)?.values() ?? [])];
    return (counts ? referrers.filter((referrer) => counts(referrer.namespace)) : referrers).map((referrer) => referrer.display).sort();
  }

  /** The ids (as given to set) of a setup's referrers, counted or not. */
  ids(setup: string): string[] {
    return [...(this.#bySetup.get(setup)?.keys() ?? [])];
  }

  count(setup: string, counts?: CountsReferrer): number {
    return counts ? this.referrers(setup, counts).length : (this.#bySetup.get(setup)?.size ?? 0);
  }

  /** The references made from one namespace: each referrer's id and the setup it names. */
  inNamespace(namespace: string): { id: string; setup: string }[] {
    return [...(this.#byNamespace.get(namespace) ?? [])].map((id) => ({ id, setup: this.#setupOf.get(id)! }));
  }
}

function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  ids?.delete(id);
  if (ids?.size === 0) index.delete(key);
}

/** A kind that counts as a referrer: its group/version/resource and the dotted path of the field naming the setup. */
export interface ReferrerKind {
  group: string;
  version: string;
  resource: string;
  fieldPath: string;
}

/** Parses "group/version/resource:field.path" (the core group is written as an empty group: "/v1/configmaps:data.setup"). */
export function parseReferrerKind(text: string): ReferrerKind {
  const match = /^([a-z0-9.-]*)\/(v[0-9a-z]+)\/([a-z0-9-]+):([A-Za-z0-9_.-]+)$/.exec(text.trim());
  if (!match) throw new Error(`referrer "${text}" must look like group/version/resource:field.path, e.g. apps.example.com/v1/mailers:spec.sesSetupName`);
  return { group: match[1]!, version: match[2]!, resource: match[3]!, fieldPath: match[4]! };
}

export function readField(object: unknown, path: string): string | undefined {
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return typeof current === 'string' && current !== '' ? current : undefined;
}

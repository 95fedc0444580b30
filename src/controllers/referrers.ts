/**
 * Which objects reference which SesSetup, kept from the referrer informers' events, so deletion
 * can wait on them and resume the moment the last one goes (watch-driven, not polled).
 */
export class ReferrerIndex {
  readonly #bySetup = new Map<string, Map<string, string>>();
  readonly #setupOf = new Map<string, string>();

  /** Records that `id` (shown as `display`) references `setup` (or nothing); returns the setups whose referrers changed. */
  set(id: string, display: string, setup: string | undefined): string[] {
    const previous = this.#setupOf.get(id);
    if (previous === setup) return [];
    const changed: string[] = [];
    if (previous !== undefined) {
      this.#bySetup.get(previous)?.delete(id);
      if (this.#bySetup.get(previous)?.size === 0) this.#bySetup.delete(previous);
      this.#setupOf.delete(id);
      changed.push(previous);
    }
    if (setup !== undefined) {
      let referrers = this.#bySetup.get(setup);
      if (!referrers) this.#bySetup.set(setup, (referrers = new Map()));
      referrers.set(id, display);
      this.#setupOf.set(id, setup);
      changed.push(setup);
    }
    return changed;
  }

  remove(id: string): string[] {
    return this.set(id, '', undefined);
  }

  /** The referrers of a setup, as people read them ("EmailUseCase billing/invoices"), sorted. */
  referrers(setup: string): string[] {
    return [...(this.#bySetup.get(setup)?.values() ?? [])].sort();
  }

  /** The ids (as given to set) of a setup's referrers. */
  ids(setup: string): string[] {
    return [...(this.#bySetup.get(setup)?.keys() ?? [])];
  }

  count(setup: string): number {
    return this.#bySetup.get(setup)?.size ?? 0;
  }
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

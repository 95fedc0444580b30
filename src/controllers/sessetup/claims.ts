import type { SesSetup } from '../../api/sessetup.ts';

type Kind = 'tenant' | 'domain';

/** Whether the setup's status records the resource as its own: it already created or adopted it in SES. */
function holds(setup: SesSetup, kind: Kind): boolean {
  const status = setup.status;
  return kind === 'tenant'
    ? !!status?.tenant?.arn && status.tenant.name === setup.spec.tenantName
    : !!status?.identity?.dkimTokens?.length && status.identity.name === setup.spec.domainIdentity;
}

/**
 * The order in which setups hold one claim: a setup that holds the resource in SES comes first.
 * creationTimestamp has one-second resolution, so two setups created in the same second are
 * otherwise ordered by name, and a setup that was reconciled (and created the tenant) before the
 * other one appeared must not lose the claim to it, or neither could ever proceed (one in
 * conflict, the other not owning).
 */
function comesBefore(a: { held: boolean; created: string; name: string }, b: { held: boolean; created: string; name: string }): boolean {
  if (a.held !== b.held) return a.held;
  if (a.created !== b.created) return a.created < b.created;
  return a.name < b.name;
}

/** Changes when a setup's claims or their order change: the manager re-indexes on that. */
export function claimKey(setup: SesSetup): string {
  const { tenantName, domainIdentity } = setup.spec;
  return `${tenantName} ${domainIdentity} ${setup.metadata.creationTimestamp ?? ''} ${holds(setup, 'tenant')} ${holds(setup, 'domain')}`;
}

/** One setup's claims as indexed: what it wants, and what decides its place among others wanting the same. */
interface Claimed {
  tenant: string;
  domain: string;
  created: string;
  tenantHeld: boolean;
  domainHeld: boolean;
}

/**
 * Who claims which tenantName and domainIdentity. Two SesSetups may not share either: the one
 * holding it in SES, else the older one (creationTimestamp, then name), keeps it; the other
 * reports a conflict and touches nothing. Kept for every setup, so it is kept small: nearly every
 * claim has one holder, stored as its name (an array only while several want it).
 */
export class ClaimIndex {
  readonly #claimed = new Map<string, Claimed>();
  readonly #holders = { tenant: new Map<string, string | string[]>(), domain: new Map<string, string | string[]>() };

  /** Updates a setup's claims; returns the other setups that share an old or new claim (they may need a new look). */
  set(setup: SesSetup): string[] {
    const name = setup.metadata.name;
    const affected = new Set(this.remove(name));
    const claimed: Claimed = {
      tenant: setup.spec.tenantName,
      domain: setup.spec.domainIdentity,
      created: setup.metadata.creationTimestamp ?? '',
      tenantHeld: holds(setup, 'tenant'),
      domainHeld: holds(setup, 'domain'),
    };
    for (const kind of ['tenant', 'domain'] as const) {
      const map = this.#holders[kind];
      const key = claimed[kind];
      const current = map.get(key);
      for (const other of holderList(current)) if (other !== name) affected.add(other);
      if (current === undefined) map.set(key, name);
      else if (typeof current === 'string') map.set(key, [current, name]);
      else current.push(name);
    }
    this.#claimed.set(name, claimed);
    return [...affected];
  }

  remove(name: string): string[] {
    const claimed = this.#claimed.get(name);
    if (!claimed) return [];
    this.#claimed.delete(name);
    const affected: string[] = [];
    for (const kind of ['tenant', 'domain'] as const) {
      const map = this.#holders[kind];
      const key = claimed[kind];
      const others = holderList(map.get(key)).filter((holder) => holder !== name);
      if (others.length === 0) map.delete(key);
      else map.set(key, others.length === 1 ? others[0]! : others);
      affected.push(...others);
    }
    return affected;
  }

  /** The setup that holds a claim this one wants, if any, and which field. */
  conflictFor(setup: SesSetup): { field: 'tenantName' | 'domainIdentity'; holder: string } | undefined {
    const name = setup.metadata.name;
    const created = setup.metadata.creationTimestamp ?? '';
    for (const [field, kind, key] of [
      ['tenantName', 'tenant', setup.spec.tenantName],
      ['domainIdentity', 'domain', setup.spec.domainIdentity],
    ] as const) {
      const mine = { held: holds(setup, kind), created, name };
      for (const other of holderList(this.#holders[kind].get(key))) {
        const theirs = this.#claimed.get(other);
        if (other === name || !theirs) continue;
        if (comesBefore({ held: kind === 'tenant' ? theirs.tenantHeld : theirs.domainHeld, created: theirs.created, name: other }, mine)) {
          return { field, holder: other };
        }
      }
    }
    return undefined;
  }
}

function holderList(holders: string | string[] | undefined): string[] {
  return holders === undefined ? [] : typeof holders === 'string' ? [holders] : holders;
}

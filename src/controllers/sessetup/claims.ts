import type { SesSetup } from '../../api/sessetup.ts';

/**
 * Who claims which tenantName and domainIdentity. Two SesSetups may not share either: the older
 * one (creationTimestamp, then name) keeps it, the later one reports a conflict and touches nothing.
 */
export class ClaimIndex {
  readonly #holders = new Map<string, Map<string, string>>();
  readonly #claimsOf = new Map<string, string[]>();

  /** Updates a setup's claims; returns the other setups that share an old or new claim (they may need a new look). */
  set(setup: SesSetup): string[] {
    const name = setup.metadata.name;
    const claims = [`tenant:${setup.spec.tenantName}`, `domain:${setup.spec.domainIdentity}`];
    const affected = new Set(this.remove(name));
    const order = `${setup.metadata.creationTimestamp ?? ''}|${name}`;
    for (const claim of claims) {
      let holders = this.#holders.get(claim);
      if (!holders) this.#holders.set(claim, (holders = new Map()));
      holders.set(name, order);
      for (const other of holders.keys()) if (other !== name) affected.add(other);
    }
    this.#claimsOf.set(name, claims);
    return [...affected];
  }

  remove(name: string): string[] {
    const affected: string[] = [];
    for (const claim of this.#claimsOf.get(name) ?? []) {
      const holders = this.#holders.get(claim);
      holders?.delete(name);
      if (holders?.size === 0) this.#holders.delete(claim);
      else if (holders) affected.push(...holders.keys());
    }
    this.#claimsOf.delete(name);
    return affected;
  }

  /** The setup that holds a claim this one wants, if any, and which field. */
  conflictFor(setup: SesSetup): { field: 'tenantName' | 'domainIdentity'; holder: string } | undefined {
    const name = setup.metadata.name;
    const mine = `${setup.metadata.creationTimestamp ?? ''}|${name}`;
    for (const [field, claim] of [
      ['tenantName', `tenant:${setup.spec.tenantName}`],
      ['domainIdentity', `domain:${setup.spec.domainIdentity}`],
    ] as const) {
      for (const [other, order] of this.#holders.get(claim) ?? []) {
        if (other !== name && order < mine) return { field, holder: other };
      }
    }
    return undefined;
  }
}

import type { SesSetup } from '../../api/sessetup.ts';

/**
 * The order in which setups hold one claim. A setup whose status records the resource as its own
 * (it already created or adopted it in SES) comes first: creationTimestamp has one-second
 * resolution, so two setups created in the same second are otherwise ordered by name, and a
 * setup that was reconciled (and created the tenant) before the other one appeared must not
 * lose the claim to it, or neither could ever proceed (one in conflict, the other not owning).
 */
function claimOrder(setup: SesSetup, kind: 'tenant' | 'domain'): string {
  const status = setup.status;
  const holds =
    kind === 'tenant'
      ? !!status?.tenant?.arn && status.tenant.name === setup.spec.tenantName
      : !!status?.identity?.dkimTokens?.length && status.identity.name === setup.spec.domainIdentity;
  return `${holds ? 0 : 1}|${setup.metadata.creationTimestamp ?? ''}|${setup.metadata.name}`;
}

/** Changes when a setup's claims or their order change: the manager re-indexes on that. */
export function claimKey(setup: SesSetup): string {
  return `${setup.spec.tenantName} ${claimOrder(setup, 'tenant')} ${setup.spec.domainIdentity} ${claimOrder(setup, 'domain')}`;
}

/**
 * Who claims which tenantName and domainIdentity. Two SesSetups may not share either: the one
 * holding it in SES, else the older one (creationTimestamp, then name), keeps it; the other
 * reports a conflict and touches nothing.
 */
export class ClaimIndex {
  readonly #holders = new Map<string, Map<string, string>>();
  readonly #claimsOf = new Map<string, string[]>();

  /** Updates a setup's claims; returns the other setups that share an old or new claim (they may need a new look). */
  set(setup: SesSetup): string[] {
    const name = setup.metadata.name;
    const claims = [`tenant:${setup.spec.tenantName}`, `domain:${setup.spec.domainIdentity}`];
    const orders = [claimOrder(setup, 'tenant'), claimOrder(setup, 'domain')];
    const affected = new Set(this.remove(name));
    for (const [index, claim] of claims.entries()) {
      let holders = this.#holders.get(claim);
      if (!holders) this.#holders.set(claim, (holders = new Map()));
      holders.set(name, orders[index]!);
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
    for (const [field, claim, mine] of [
      ['tenantName', `tenant:${setup.spec.tenantName}`, claimOrder(setup, 'tenant')],
      ['domainIdentity', `domain:${setup.spec.domainIdentity}`, claimOrder(setup, 'domain')],
    ] as const) {
      for (const [other, order] of this.#holders.get(claim) ?? []) {
        if (other !== name && order < mine) return { field, holder: other };
      }
    }
    return undefined;
  }
}

import type { Happening, StepResult } from '../step.ts';

/** The SES resources a step claims for its setup: created, found as ours by UID tag, adopted, or refused. */
export type ClaimKind = 'tenant' | 'identity';

/** Each kind's Event reasons, spelled out so that a search for a reason finds where it is sent. */
const REASONS = {
  tenant: { ready: 'TenantReady', adopted: 'TenantAdopted', recreated: 'TenantRecreated' },
  identity: { ready: 'IdentityReady', adopted: 'IdentityAdopted', recreated: 'IdentityRecreated' },
} as const;

/** Someone else's resource: the kind's verdict and Stalled say the same words, and the steps after it cannot run. */
export function refusedClaim(kind: ClaimKind, { reason, message }: { reason: string; message: string }): StepResult {
  return { verdicts: { [kind]: { ok: false, reason, message }, stalled: { reason, message } }, stop: true };
}

export interface Claim {
  kind: ClaimKind;
  /** The SES name: the tenant name or the domain. */
  name: string;
  region: string;
  created: boolean;
  adopted: boolean;
  /** What status recorded for this kind when the reconcile began. */
  recorded: { name: string; arn?: string } | undefined;
  /** Whether the Normal Event names the region: the tenant's does, as the tenant is where the region gets pinned. */
  namesRegion: boolean;
  /** What a person must do again after a re-creation, added to the Warning. */
  afterRecreate?: string;
}

/**
 * The Event for a resource the step now holds. A Warning when status recorded it as the reconcile
 * began yet it had to be created again (the drift step found it gone from SES); otherwise Normal,
 * saying how it was found.
 */
export function claimEvent(claim: Claim): Happening {
  const { kind, name, region, created, adopted, recorded } = claim;
  const reasons = REASONS[kind];
  if (created && recorded?.name === name && recorded.arn !== undefined) {
    const again = `SES ${kind} ${name} was deleted outside the operator; created it again in ${region}, tagged as before`;
    return { type: 'Warning', reason: reasons.recreated, message: claim.afterRecreate ? `${again}. ${claim.afterRecreate}` : again };
  }
  const how = adopted ? 'adopted' : created ? 'created' : 'found (created earlier by this SesSetup)';
  const message = `SES ${kind} ${name} ${how}${claim.namesRegion ? ` in ${region}` : ''}`;
  return { type: 'Normal', reason: adopted ? reasons.adopted : reasons.ready, message };
}

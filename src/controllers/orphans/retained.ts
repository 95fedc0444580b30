import { OWNER_UID_TAG, RETAINED_TAG } from '../../api/group.ts';
import type { SesSetup } from '../../api/sessetup.ts';
import { identityArn, type SesCallOptions, type SesGateway } from '../../ses/gateway.ts';

/** The SES resources of one SesSetup that `deletionPolicy: Retain` keeps. */
export interface RetainTarget {
  region: string;
  /** Absent when the setup never recorded a name SES could hold: nothing to mark. */
  tenantName?: string;
  domain?: string;
  ownerUid: string;
  /** status.identity.arn: the identity's ARN when the tenant (whose ARN gives the account) is gone. */
  identityArn?: string;
}

/** What a SesSetup (spec, UID, status) says it would keep in `region`. */
export function retainTarget(setup: SesSetup, region: string): RetainTarget {
  return {
    region,
    tenantName: setup.spec.tenantName,
    domain: setup.spec.domainIdentity,
    ownerUid: setup.metadata.uid ?? '',
    identityArn: setup.status?.identity?.arn,
  };
}

export type MarkOutcome = 'marked' | 'already-marked' | 'absent' | 'not-owned';

export function isRetained(tags: Record<string, string>): boolean {
  return tags[RETAINED_TAG] === 'true';
}

/**
 * Tags a Retain setup's tenant and identity with RETAINED_TAG so the orphan sweep keeps them for
 * good. A tag rather than removing the owner tags: the owner UID and name stay readable for people,
 * and TagResource is an action the operator already holds. Each resource is read back first and
 * tagged only when it carries this setup's UID, as teardown does before a delete: nothing foreign is
 * touched. Throws on an SES error, so a finalizer that calls it retries before letting go.
 */
export async function markRetained(ses: SesGateway, target: RetainTarget, options?: SesCallOptions): Promise<{ tenant: MarkOutcome; identity: MarkOutcome }> {
  const { region, tenantName, domain, ownerUid } = target;
  const retained = { [RETAINED_TAG]: 'true' };
  const tenant = tenantName === undefined ? undefined : await ses.getTenant(region, tenantName, options);
  const identity = domain === undefined ? undefined : await ses.getEmailIdentity(region, domain, options);
  const mark = async (resource: { tags: Record<string, string> } | undefined, arn: string | undefined): Promise<MarkOutcome> => {
    if (!resource) return 'absent';
    if (resource.tags[OWNER_UID_TAG] !== ownerUid || !arn) return 'not-owned';
    if (isRetained(resource.tags)) return 'already-marked';
    await ses.tagResource(region, arn, retained, options);
    return 'marked';
  };
  return {
    tenant: await mark(tenant, tenant?.arn),
    identity: await mark(identity, tenant?.arn && domain ? identityArn(tenant.arn, domain) : target.identityArn),
  };
}

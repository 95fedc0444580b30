import type { SesSetupStatus } from '../../api/sessetup.ts';
import { identityArn, type SesIdentity, type SesTenant } from '../../ses/gateway.ts';

export type TenantStatus = NonNullable<SesSetupStatus['tenant']>;
export type IdentityStatus = NonNullable<SesSetupStatus['identity']>;

/** status.tenant as SES described the tenant. */
export function tenantStatus(name: string, tenant: SesTenant, adopted: boolean): TenantStatus {
  return { name, id: tenant.id, arn: tenant.arn, sendingStatus: tenant.sendingStatus, ...(adopted ? { adopted: true } : {}) };
}

/** status.identity as SES described the identity when it was created or found: not associated with the tenant yet. */
export function identityStatus(domain: string, tenantArn: string, identity: SesIdentity, adopted: boolean): IdentityStatus {
  return {
    name: domain,
    // SES does not return it: built from the tenant ARN's account and region.
    arn: identityArn(tenantArn, domain),
    dkimStatus: identity.dkimStatus,
    verificationStatus: identity.verificationStatus,
    verifiedForSending: identity.verifiedForSending,
    dkimTokens: identity.dkimTokens,
    signingHostedZone: identity.signingHostedZone,
    tenantAssociated: false,
    ...(adopted ? { adopted: true } : {}),
  };
}

/** What a fresh GetEmailIdentity changes in status.identity: SES's verdicts, and its DKIM tokens when it returned any. */
export function identitySeenAgain(recorded: IdentityStatus, fresh: SesIdentity): IdentityStatus {
  return {
    ...recorded,
    dkimStatus: fresh.dkimStatus,
    verificationStatus: fresh.verificationStatus,
    verifiedForSending: fresh.verifiedForSending,
    ...(fresh.dkimTokens.length ? { dkimTokens: fresh.dkimTokens } : {}),
  };
}

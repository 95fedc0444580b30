import { OWNER_NAME_TAG, OWNER_UID_TAG } from '../../../api/group.ts';
import { readMailFrom } from '../mail-from.ts';
import { identitySeenAgain } from '../ses-status.ts';
import type { Facts, Happening, Step, StepResult } from '../step.ts';
import { pendingVerifyRequest } from './verify-request.ts';

/**
 * Reads back what the setup owns in SES (GetTenant, GetEmailIdentity, ListResourceTenants), only
 * on a verified setup's slow re-check or a requested verify: fast checks and no-op reconciles
 * cost nothing more. What it finds becomes facts the next steps act on: a resource deleted
 * outside the operator is forgotten, so its step creates it again (tagged as before); a
 * same-named resource that is no longer ours is reported and left alone; the tenant's
 * SendingStatus and the identity's DKIM and MAIL FROM status are recorded for the tenant and dns
 * steps to judge.
 */
export const driftStep: Step = {
  name: 'drift',
  async run({ setup, spec, region, facts, sesCall }, { ses, schedule, population, now }) {
    const { tenant, identity } = facts;
    if (!tenant?.arn || !identity?.arn || tenant.name !== spec.tenantName || identity.name !== spec.domainIdentity) return {};
    const slowCheckDue = facts.dnsVerified === true && schedule.isDue(setup.metadata.name, true, population(), now());
    const verifyRequest = pendingVerifyRequest(setup, facts);
    if (!slowCheckDue && verifyRequest === undefined) return {};
    // A requested check that ends here is still answered: its result is the report below.
    const answered: Partial<Facts> = verifyRequest === undefined ? {} : { lastHandledVerifyRequest: verifyRequest };

    const uid = setup.metadata.uid ?? '';
    const seenTenant = await ses.getTenant(region, tenant.name, sesCall);
    if (seenTenant && seenTenant.tags[OWNER_UID_TAG] !== uid) return replaced('tenant', tenant.name, region, seenTenant.tags, answered);
    const seenIdentity = await ses.getEmailIdentity(region, identity.name, sesCall);
    if (seenIdentity && seenIdentity.tags[OWNER_UID_TAG] !== uid) return replaced('identity', identity.name, region, seenIdentity.tags, answered);
    // Deleting a tenant deletes its associations: only a live tenant and identity are worth asking about.
    const associated = seenTenant && seenIdentity ? (await ses.listResourceTenants(region, identity.arn, sesCall)).includes(tenant.name) : false;

    const learned: Partial<Facts> = {};
    const happened: Happening[] = [];
    if (!seenTenant) learned.tenant = undefined;
    else {
      learned.tenant = { ...tenant, id: seenTenant.id ?? tenant.id, arn: seenTenant.arn ?? tenant.arn, sendingStatus: seenTenant.sendingStatus };
      if (tenant.sendingStatus === 'DISABLED' && seenTenant.sendingStatus !== 'DISABLED')
        happened.push({
          type: 'Normal',
          reason: 'TenantReinstated',
          message: `SES allows sending for tenant ${tenant.name} again (SendingStatus ${seenTenant.sendingStatus})`,
        });
    }
    if (!seenIdentity) learned.identity = undefined;
    else {
      learned.identity = { ...identitySeenAgain(identity, seenIdentity), tenantAssociated: associated };
      // The same read tells MAIL FROM's status: the dns step then needs no read of its own.
      const read = readMailFrom(facts.mailFrom, seenIdentity);
      learned.mailFrom = read.mailFrom;
      happened.push(...read.happened);
    }
    return { learned, happened, identityReadNow: seenIdentity !== undefined };
  },
};

/**
 * A same-named resource that does not carry this setup's UID: someone replaced ours. Reported
 * and left untouched; forgetting it makes every later reconcile ask again through the tenant or
 * identity step's own claim check (create, AlreadyExists, read the owner tag), which also honours
 * adoptionPolicy: Adopt.
 */
function replaced(what: 'tenant' | 'identity', name: string, region: string, tags: Record<string, string>, answered: Partial<Facts>): StepResult {
  const reason = what === 'tenant' ? 'TenantNotOwned' : 'IdentityNotOwned';
  const owner = tags[OWNER_UID_TAG]
    ? `it belongs to SesSetup ${tags[OWNER_NAME_TAG] ?? '?'} with UID ${tags[OWNER_UID_TAG]}`
    : 'it has no ses-operator owner tag';
  const message =
    `the SES ${what} "${name}" in ${region} was replaced outside the operator: the one there now was not created by this SesSetup (${owner}). ` +
    `Nothing was changed. Delete it in SES to have this SesSetup create its own again, or set spec.adoptionPolicy: Adopt to take it over.`;
  const judgement = { ok: false, reason, message };
  const learned: Partial<Facts> = { ...answered, ...(what === 'tenant' ? { tenant: undefined } : { identity: undefined }) };
  return { learned, verdicts: { [what]: judgement, stalled: { reason, message } }, stop: true };
}

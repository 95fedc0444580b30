import { ensureIdentity } from '../ses-resources.ts';
import { identityStatus } from '../ses-status.ts';
import type { Step } from '../step.ts';
import { claimEvent, refusedClaim } from './claim.ts';
import { ownerOf } from './owner.ts';

/** The SES domain identity (with its DKIM tokens): created, found, adopted or refused, like the tenant. */
export const identityStep: Step = {
  name: 'identity',
  async run({ setup, spec, region, facts, log, sesCall }, { ses, now }) {
    if (facts.identity?.dkimTokens?.length && facts.identity.name === spec.domainIdentity) return {};
    const tenantArn = facts.tenant!.arn!;
    const ensured = await ensureIdentity(ses, region, spec.domainIdentity, tenantArn, ownerOf(setup, spec), sesCall);
    if (!ensured.ok) return refusedClaim('identity', ensured);
    const { value, created, adopted } = ensured;
    log.info({ created, adopted }, 'identity ready');
    const happened = claimEvent({
      kind: 'identity',
      name: spec.domainIdentity,
      region,
      created,
      adopted,
      recorded: setup.status?.identity,
      namesRegion: false,
      afterRecreate: 'It has new DKIM tokens: publish the DKIM records in status.dnsRecords again',
    });
    return {
      learned: {
        identity: identityStatus(spec.domainIdentity, tenantArn, value, adopted),
      },
      identityCreatedNow: created,
      ...(created ? { identityCreatedAt: now() } : {}),
      happened: [happened],
    };
  },
};

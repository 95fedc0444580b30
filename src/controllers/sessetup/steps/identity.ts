import { identityArn } from '../../../ses/gateway.ts';
import { ensureIdentity } from '../ses-resources.ts';
import type { Step } from '../step.ts';
import { ownerOf } from './owner.ts';

/** The SES domain identity (with its DKIM tokens): created, found, adopted or refused, like the tenant. */
export const identityStep: Step = {
  name: 'identity',
  async run({ setup, spec, region, facts, log }, { ses, now }) {
    if (facts.identity?.dkimTokens?.length && facts.identity.name === spec.domainIdentity) return {};
    const tenantArn = facts.tenant!.arn!;
    const ensured = await ensureIdentity(ses, region, spec.domainIdentity, tenantArn, ownerOf(setup, spec));
    if (!ensured.ok) {
      const blocked = { ok: false, reason: ensured.reason, message: ensured.message };
      return { verdicts: { identity: blocked, stalled: { reason: ensured.reason, message: ensured.message } }, stop: true };
    }
    const { value, created, adopted } = ensured;
    log.info({ created, adopted }, 'identity ready');
    const how = adopted ? 'adopted' : created ? 'created' : 'found (created earlier by this SesSetup)';
    return {
      learned: {
        identity: {
          name: spec.domainIdentity,
          arn: identityArn(tenantArn, spec.domainIdentity),
          dkimStatus: value.dkimStatus,
          verificationStatus: value.verificationStatus,
          verifiedForSending: value.verifiedForSending,
          dkimTokens: value.dkimTokens,
          signingHostedZone: value.signingHostedZone,
          tenantAssociated: false,
          ...(adopted ? { adopted: true } : {}),
        },
      },
      identityCreatedNow: created,
      ...(created ? { identityCreatedAt: now() } : {}),
      happened: [{ type: 'Normal', reason: adopted ? 'IdentityAdopted' : 'IdentityReady', message: `SES identity ${spec.domainIdentity} ${how}` }],
    };
  },
};

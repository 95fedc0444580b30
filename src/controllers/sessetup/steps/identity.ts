import { identityArn } from '../../../ses/gateway.ts';
import { ensureIdentity } from '../ses-resources.ts';
import type { Happening, Step } from '../step.ts';
import { ownerOf } from './owner.ts';

/** The SES domain identity (with its DKIM tokens): created, found, adopted or refused, like the tenant. */
export const identityStep: Step = {
  name: 'identity',
  async run({ setup, spec, region, facts, log, signal }, { ses }) {
    if (facts.identity?.dkimTokens?.length && facts.identity.name === spec.domainIdentity) return {};
    const tenantArn = facts.tenant!.arn!;
    const ensured = await ensureIdentity(ses, region, spec.domainIdentity, tenantArn, ownerOf(setup, spec), { signal });
    if (!ensured.ok) {
      const blocked = { ok: false, reason: ensured.reason, message: ensured.message };
      return { verdicts: { identity: blocked, stalled: { reason: ensured.reason, message: ensured.message } }, stop: true };
    }
    const { value, created, adopted } = ensured;
    log.info({ created, adopted }, 'identity ready');
    const how = adopted ? 'adopted' : created ? 'created' : 'found (created earlier by this SesSetup)';
    // Status recorded this identity when the reconcile began, and the drift step found it gone from SES.
    const recreated = created && setup.status?.identity?.name === spec.domainIdentity && setup.status.identity.arn !== undefined;
    const happened: Happening = recreated
      ? {
          type: 'Warning',
          reason: 'IdentityRecreated',
          message:
            `SES identity ${spec.domainIdentity} was deleted outside the operator; created it again in ${region}, tagged as before. ` +
            'It has new DKIM tokens: publish the DKIM records in status.dnsRecords again',
        }
      : { type: 'Normal', reason: adopted ? 'IdentityAdopted' : 'IdentityReady', message: `SES identity ${spec.domainIdentity} ${how}` };
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
      happened: [happened],
    };
  },
};

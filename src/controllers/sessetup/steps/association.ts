import type { Step } from '../step.ts';

/** The identity joined to the tenant; the identity is ready once it is. */
export const associationStep: Step = {
  name: 'association',
  async run({ spec, region, facts }, { ses }) {
    const identity = facts.identity!;
    const ready = {
      identity: { ok: true, reason: 'IdentityReady', message: `identity ${spec.domainIdentity} exists and is associated with tenant ${spec.tenantName}` },
    };
    if (identity.tenantAssociated) return { verdicts: ready };
    await ses.associate(region, spec.tenantName, identity.arn!);
    return { learned: { identity: { ...identity, tenantAssociated: true } }, verdicts: ready };
  },
};

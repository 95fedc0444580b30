import type { Step } from '../step.ts';

/** The identity joined to the tenant; the identity is ready once it is. */
export const associationStep: Step = {
  name: 'association',
  async run({ setup, spec, region, facts, tenantCreatedNow, identityCreatedNow, sesCall }, { ses }) {
    const identity = facts.identity!;
    const ready = {
      identity: { ok: true, reason: 'IdentityReady', message: `identity ${spec.domainIdentity} exists and is associated with tenant ${spec.tenantName}` },
    };
    if (identity.tenantAssociated) return { verdicts: ready };
    await ses.associate(region, spec.tenantName, identity.arn!, sesCall);
    // Both existed and were joined when the reconcile began: the join alone was removed outside the operator.
    const rejoined = !tenantCreatedNow && !identityCreatedNow && setup.status?.identity?.tenantAssociated === true;
    const happened = rejoined
      ? [
          {
            type: 'Warning' as const,
            reason: 'AssociationRecreated',
            message: `the association of identity ${spec.domainIdentity} with tenant ${spec.tenantName} was removed outside the operator; created it again`,
          },
        ]
      : [];
    return { learned: { identity: { ...identity, tenantAssociated: true } }, verdicts: ready, happened };
  },
};

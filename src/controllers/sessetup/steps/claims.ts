import type { Step } from '../step.ts';

/** Two SesSetups may not share a tenantName or domainIdentity: the later one changes nothing in SES. */
export const claimsStep: Step = {
  name: 'claims',
  async run({ setup, spec }, { claims }) {
    const conflict = claims.conflictFor(setup);
    if (!conflict) return {};
    const message = `${conflict.field} "${spec[conflict.field]}" is already claimed by SesSetup ${conflict.holder}; this SesSetup changes nothing in SES until that one is deleted or its ${conflict.field} differs`;
    const reason = conflict.field === 'tenantName' ? 'TenantNameConflict' : 'DomainConflict';
    const blocked = { ok: false, reason, message };
    return { verdicts: { tenant: blocked, identity: blocked, stalled: { reason, message } }, stop: true };
  },
};

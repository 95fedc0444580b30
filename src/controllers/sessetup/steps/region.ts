import type { Step } from '../step.ts';

/**
 * A setup whose recorded region differs from spec.region (an older CRD without the immutability
 * rule, a restored status) touches nothing: creating in spec.region would leave the resources in
 * the recorded region orphaned behind a setup that no longer looks at them.
 */
export const regionStep: Step = {
  name: 'region',
  async run({ spec, facts }) {
    if (!spec.region || !facts.region || spec.region === facts.region) return {};
    const message =
      `spec.region is ${spec.region} but this SesSetup's tenant and identity live in ${facts.region} (status.region); nothing is changed in either region. ` +
      `To move to ${spec.region}, create a new SesSetup there and delete this one (its teardown runs in ${facts.region}).`;
    const mismatch = { ok: false, reason: 'RegionMismatch', message };
    return { verdicts: { tenant: mismatch, identity: mismatch, stalled: { reason: 'RegionMismatch', message } }, stop: true };
  },
};

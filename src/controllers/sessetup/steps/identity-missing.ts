import type { SesSetupSpec } from '../../../api/sessetup.ts';
import type { Logger } from '../../../runtime/logger.ts';
import type { StepResult } from '../step.ts';

/**
 * The identity vanished in SES: record that (with everything set on it), then create it again
 * on the next pass.
 */
export function identityMissing(spec: SesSetupSpec, log: Logger): StepResult {
  log.warn('identity is gone from SES; creating it again');
  const message = `SES identity ${spec.domainIdentity} no longer exists`;
  return {
    learned: { identity: undefined, mailFrom: undefined },
    verdicts: { identity: { ok: false, reason: 'IdentityMissing', message: `${message}; creating it again` } },
    happened: [{ type: 'Warning', reason: 'IdentityMissing', message: `${message} in SES; creating it again` }],
    requeueAfterMs: 1_000,
    stop: true,
  };
}

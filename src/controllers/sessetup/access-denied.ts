import { SesError } from '../../ses/gateway.ts';
import type { Judgement } from './step.ts';

/** The policy file that lists every SES action the operator needs. */
export const IAM_POLICY_FILE = 'deploy/iam-policy.json';

export function isAccessDenied(error: unknown): error is SesError {
  return error instanceof SesError && error.kind === 'AccessDenied';
}

/**
 * An AccessDeniedException as a verdict naming the SES action and where to grant it: only a person
 * can fix it, so it is retried slowly (`retryMs`), not by the work queue's fast backoff.
 */
export function accessDeniedVerdict(error: SesError, retryMs: number): Judgement {
  return {
    ok: false,
    reason: 'AccessDenied',
    message:
      `SES denied ses:${error.operation} to the operator's IAM role. Allow ses:${error.operation} ` +
      `(${IAM_POLICY_FILE} lists every action the operator needs); retrying every ${Math.round(retryMs / 1000)}s. SES said: ${error.message}`,
  };
}

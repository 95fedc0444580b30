import { VERIFY_ANNOTATION } from '../../../api/group.ts';
import type { SesSetup } from '../../../api/sessetup.ts';
import type { Facts } from '../step.ts';

/** The verify annotation's value when it asks for something status has not answered yet. */
export function pendingVerifyRequest(setup: SesSetup, facts: Readonly<Facts>): string | undefined {
  const request = setup.metadata.annotations?.[VERIFY_ANNOTATION];
  return request !== undefined && request !== facts.lastHandledVerifyRequest ? request : undefined;
}

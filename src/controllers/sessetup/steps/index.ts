import type { Step } from '../step.ts';
import { associationStep } from './association.ts';
import { claimsStep } from './claims.ts';
import { dnsStep } from './dns.ts';
import { driftStep } from './drift.ts';
import { identityStep } from './identity.ts';
import { publishStep } from './publish.ts';
import { mailFromStep } from './mail-from.ts';
import { regionStep } from './region.ts';
import { tenantStep } from './tenant.ts';

/**
 * A SesSetup's reconcile, in order. Each step may stop the chain; a new concern (MAIL FROM, DNS
 * publication) is one more entry here and touches none of the others. The drift read-back runs
 * before the steps that create, so what it finds deleted is created again in the same pass.
 */
export const SES_SETUP_STEPS: readonly Step[] = [
  regionStep,
  claimsStep,
  driftStep,
  tenantStep,
  identityStep,
  associationStep,
  mailFromStep,
  dnsStep,
  publishStep,
];

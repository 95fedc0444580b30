import type { Step } from '../step.ts';
import { associationStep } from './association.ts';
import { claimsStep } from './claims.ts';
import { dnsStep } from './dns.ts';
import { identityStep } from './identity.ts';
import { publishStep } from './publish.ts';
import { regionStep } from './region.ts';
import { tenantStep } from './tenant.ts';

/**
 * A SesSetup's reconcile, in order. Each step may stop the chain; a new concern (drift read-back,
 * MAIL FROM, DNS publication) is one more entry here and touches none of the others.
 */
export const SES_SETUP_STEPS: readonly Step[] = [regionStep, claimsStep, tenantStep, identityStep, associationStep, dnsStep, publishStep];

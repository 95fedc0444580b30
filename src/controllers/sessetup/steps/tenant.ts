import type { SesSetupStatus } from '../../../api/sessetup.ts';
import { ensureTenant } from '../ses-resources.ts';
import { tenantStatus } from '../ses-status.ts';
import type { Judgement, Step, Verdicts } from '../step.ts';
import { claimEvent, refusedClaim } from './claim.ts';
import { ownerOf } from './owner.ts';

/** The one place that says whether the tenant is ready: it exists, and SES has not paused its sending. */
function tenantReady(tenant: NonNullable<SesSetupStatus['tenant']>, region: string): Judgement {
  if (tenant.sendingStatus === 'DISABLED') {
    return {
      ok: false,
      reason: 'TenantPaused',
      message:
        `SES paused sending for tenant ${tenant.name} in ${region} (SendingStatus DISABLED); nothing in this SesSetup can change that: ` +
        'see the tenant in the SES console (its reputation findings) or ask AWS Support. It shows Ready again once SES reinstates it.',
    };
  }
  return { ok: true, reason: 'TenantReady', message: `tenant ${tenant.name} (${tenant.id ?? 'id unknown'}) exists in ${region}` };
}

/** A paused tenant waits for AWS, not for the operator: Stalled, with the same words as TenantReady. */
function judged(tenant: NonNullable<SesSetupStatus['tenant']>, region: string): Verdicts {
  const verdict = tenantReady(tenant, region);
  return verdict.ok ? { tenant: verdict } : { tenant: verdict, stalled: { reason: verdict.reason, message: verdict.message } };
}

/**
 * The SES tenant: created (one call), found (ours by UID tag), adopted when asked, or refused
 * when someone else's. Skipped once status records it. The region is pinned here: from the
 * first call to SES on, the setup stays in it.
 */
export const tenantStep: Step = {
  name: 'tenant',
  async run({ setup, spec, region, facts, log, sesCall }, { ses }) {
    if (facts.tenant?.arn && facts.tenant.name === spec.tenantName) return { verdicts: judged(facts.tenant, region) };
    const pin = { region };
    let ensured;
    try {
      ensured = await ensureTenant(ses, region, spec.tenantName, ownerOf(setup, spec), sesCall);
    } catch (error) {
      // The create may have reached SES: the region is pinned all the same.
      return { learned: pin, error };
    }
    if (!ensured.ok) return { learned: pin, ...refusedClaim('tenant', ensured) };
    const { value, created, adopted } = ensured;
    const tenant = tenantStatus(spec.tenantName, value, adopted);
    log.info({ created, adopted }, 'tenant ready');
    const happened = claimEvent({ kind: 'tenant', name: spec.tenantName, region, created, adopted, recorded: setup.status?.tenant, namesRegion: true });
    return { learned: { ...pin, tenant }, verdicts: judged(tenant, region), happened: [happened], tenantCreatedNow: created };
  },
};

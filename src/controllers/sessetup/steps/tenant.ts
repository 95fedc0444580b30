import type { SesSetupStatus } from '../../../api/sessetup.ts';
import { ensureTenant } from '../ses-resources.ts';
import type { Judgement, Step } from '../step.ts';
import { ownerOf } from './owner.ts';

/** The one place that says whether the tenant is ready. */
function tenantReady(tenant: NonNullable<SesSetupStatus['tenant']>, region: string): Judgement {
  return { ok: true, reason: 'TenantReady', message: `tenant ${tenant.name} (${tenant.id ?? 'id unknown'}) exists in ${region}` };
}

/**
 * The SES tenant: created (one call), found (ours by UID tag), adopted when asked, or refused
 * when someone else's. Skipped once status records it. The region is pinned here: from the
 * first call to SES on, the setup stays in it.
 */
export const tenantStep: Step = {
  name: 'tenant',
  async run({ setup, spec, region, facts, log }, { ses }) {
    if (facts.tenant?.arn && facts.tenant.name === spec.tenantName) return { verdicts: { tenant: tenantReady(facts.tenant, region) } };
    const pin = { region };
    let ensured;
    try {
      ensured = await ensureTenant(ses, region, spec.tenantName, ownerOf(setup, spec));
    } catch (error) {
      // The create may have reached SES: the region is pinned all the same.
      return { learned: pin, error };
    }
    if (!ensured.ok) {
      const blocked = { ok: false, reason: ensured.reason, message: ensured.message };
      return { learned: pin, verdicts: { tenant: blocked, stalled: { reason: ensured.reason, message: ensured.message } }, stop: true };
    }
    const { value, created, adopted } = ensured;
    const tenant = { name: spec.tenantName, id: value.id, arn: value.arn, sendingStatus: value.sendingStatus, ...(adopted ? { adopted: true } : {}) };
    log.info({ created, adopted }, 'tenant ready');
    const how = adopted ? 'adopted' : created ? 'created' : 'found (created earlier by this SesSetup)';
    return {
      learned: { ...pin, tenant },
      verdicts: { tenant: tenantReady(tenant, region) },
      happened: [{ type: 'Normal', reason: adopted ? 'TenantAdopted' : 'TenantReady', message: `SES tenant ${spec.tenantName} ${how} in ${region}` }],
    };
  },
};

import { isDeepStrictEqual } from 'node:util';
import { VERIFY_ANNOTATION } from '../../../api/group.ts';
import type { SesSetupStatus } from '../../../api/sessetup.ts';
import { desiredRecords } from '../../../dns/desired-records.ts';
import { assessRecords, dkimLive, lookupRecords } from '../../../dns/verify-records.ts';
import { allVerified } from '../status.ts';
import type { Facts, Step } from '../step.ts';

/**
 * The DNS records the customer publishes, checked live when a check is due or asked for (the
 * verify annotation), and SES's DKIM view read when it can tell something new. Returns the
 * delay until the next check.
 */
export const dnsStep: Step = {
  name: 'dns',
  async run({ setup, spec, region, facts, identityCreatedNow, identityCreatedAt, log }, { ses, dns, schedule, population, now: clock }) {
    const name = setup.metadata.name;
    const identity = facts.identity!;
    const desired = desiredRecords(spec, region, { tokens: identity.dkimTokens ?? [], signingHostedZone: identity.signingHostedZone });
    const verifyRequest = setup.metadata.annotations?.[VERIFY_ANNOTATION];
    const verifyRequested = verifyRequest !== undefined && verifyRequest !== facts.lastHandledVerifyRequest;
    const recordsChanged = !sameRecords(facts.dnsRecords, desired);
    const now = clock();
    const setups = population();
    if (!verifyRequested && !recordsChanged && !schedule.isDue(name, facts.dnsVerified === true, setups, now)) {
      const delay = schedule.delayUntilNext(name, now);
      return delay === undefined ? {} : { requeueAfterMs: delay };
    }

    const results = await lookupRecords(desired, dns);
    // SES cannot succeed before the CNAMEs are live, so its view is only asked for when it can tell something new.
    const cnamesLive = dkimLive(desired, results);
    const askSes = !identityCreatedNow && (verifyRequested || cnamesLive || identity.dkimStatus === 'SUCCESS');
    let seen = identity;
    if (askSes) {
      const fresh = await ses.getEmailIdentity(region, spec.domainIdentity);
      if (!fresh) {
        // The identity vanished in SES: record that, then create it again on the next pass.
        log.warn('identity is gone from SES; creating it again');
        const message = `SES identity ${spec.domainIdentity} no longer exists`;
        return {
          learned: { identity: undefined },
          verdicts: { identity: { ok: false, reason: 'IdentityMissing', message: `${message}; creating it again` } },
          happened: [{ type: 'Warning', reason: 'IdentityMissing', message: `${message} in SES; creating it again` }],
          requeueAfterMs: 1_000,
          stop: true,
        };
      }
      seen = {
        ...identity,
        dkimStatus: fresh.dkimStatus,
        verificationStatus: fresh.verificationStatus,
        verifiedForSending: fresh.verifiedForSending,
        ...(fresh.dkimTokens.length ? { dkimTokens: fresh.dkimTokens } : {}),
      };
    }
    const records = assessRecords(desired, results, seen.dkimStatus);
    const verified = allVerified(records);
    const changed = !isDeepStrictEqual(records, facts.dnsRecords);
    const learned: Partial<Facts> = { identity: seen, dnsRecords: records, dnsVerified: verified };
    // A verified setup re-checked with the same result writes nothing: steady state costs no API writes.
    if (changed || !verified || verifyRequested || recordsChanged) learned.dnsCheckedAt = new Date(now).toISOString();
    if (verifyRequested) learned.lastHandledVerifyRequest = verifyRequest;
    log.debug({ verified, askedSes: askSes, verifyRequested }, 'dns checked');
    const waitingOnSes = !verified && cnamesLive && seen.dkimStatus !== 'SUCCESS';
    // SES checks a new identity within its own interval of creating it, not of this first look (which
    // may come a rate-limited association later): the wait for SES counts from the creation.
    const from = waitingOnSes && identityCreatedAt !== undefined ? Math.min(identityCreatedAt, now) : now;
    const next = from + schedule.checked(name, verified, setups, from, waitingOnSes);
    // Past due already (a slow creation): at once, but never 0, which would mean no re-check at all.
    return { learned, checkBooked: true, requeueAfterMs: Math.max(1, next - now) };
  },
};

/** Same names, types and values, regardless of verification state: a new DKIM token or DMARC policy means a fresh check. */
function sameRecords(current: SesSetupStatus['dnsRecords'], desired: { name: string; type: string; value: string }[]): boolean {
  if (!current || current.length !== desired.length) return false;
  return desired.every((record, index) => {
    const have = current[index]!;
    return have.name === record.name && have.type === record.type && have.value === record.value;
  });
}

import { isDeepStrictEqual } from 'node:util';
import type { SesSetupStatus } from '../../../api/sessetup.ts';
import { desiredRecords } from '../../../dns/desired-records.ts';
import { assessRecords, dkimLive, lookupRecords, mailFromLive } from '../../../dns/verify-records.ts';
import { readMailFrom } from '../mail-from.ts';
import { identitySeenAgain } from '../ses-status.ts';
import { allVerified } from '../status.ts';
import type { Facts, Happening, Step } from '../step.ts';
import { identityMissing } from './identity-missing.ts';
import { pendingVerifyRequest } from './verify-request.ts';
import { generationObserved, ownedBy, type DnsEndpoint } from '../dns-endpoint.ts';

/**
 * The DNS records the customer publishes, checked live when a check is due or asked for (the
 * verify annotation), and SES's DKIM view read when it can tell something new. Returns the
 * delay until the next check.
 */
export const dnsStep: Step = {
  name: 'dns',
  async run(
    { setup, spec, region, facts, identityCreatedNow, identityCreatedAt, identityReadNow, log, signal, sesCall },
    { ses, dns, schedule, population, now: clock, dnsEndpoints },
  ) {
    const name = setup.metadata.name;
    const identity = facts.identity!;
    const desired = desiredRecords(spec, region, { tokens: identity.dkimTokens ?? [], signingHostedZone: identity.signingHostedZone });
    const verifyRequest = pendingVerifyRequest(setup, facts);
    const verifyRequested = verifyRequest !== undefined;
    const recordsChanged = !sameRecords(facts.dnsRecords, desired);
    const now = clock();
    const setups = population();
    if (!verifyRequested && !recordsChanged && !schedule.isDue(name, facts.dnsVerified === true, setups, now)) {
      const delay = schedule.delayUntilNext(name, now);
      return delay === undefined ? {} : { requeueAfterMs: delay };
    }

    const results = await lookupRecords(desired, dns, { signal });
    // SES cannot succeed before the records are live, so its view is only asked for when it can tell
    // something new; a drift read-back in this pass has told it already, unless MAIL FROM was set since.
    const cnamesLive = dkimLive(desired, results);
    const mailFrom = facts.mailFrom;
    const askAboutMailFrom =
      mailFrom !== undefined && (mailFrom.status === undefined || (!identityReadNow && (mailFrom.status === 'SUCCESS' || mailFromLive(desired, results))));
    const askAboutDkim = !identityReadNow && (verifyRequested || cnamesLive || identity.dkimStatus === 'SUCCESS');
    const askSes = !identityCreatedNow && (askAboutDkim || askAboutMailFrom);
    let seen = identity;
    let seenMailFrom = mailFrom;
    let mailFromChangedInSes = false;
    let sesLastCheckedAt: number | undefined;
    const happened: Happening[] = [];
    if (askSes) {
      const fresh = await ses.getEmailIdentity(region, spec.domainIdentity, sesCall);
      if (!fresh) return identityMissing(spec, log);
      sesLastCheckedAt = fresh.lastCheckedAt;
      const read = readMailFrom(mailFrom, fresh);
      [seenMailFrom, mailFromChangedInSes] = [read.mailFrom, read.changedInSes];
      happened.push(...read.happened);
      seen = identitySeenAgain(identity, fresh);
    }
    const records = assessRecords(desired, results, { dkimStatus: seen.dkimStatus, mailFromStatus: seenMailFrom?.status });
    const verified = allVerified(records);
    // Whether a record is handed to external-dns is the publish step's to say, not a change found by this check.
    const changed = !isDeepStrictEqual(
      records,
      facts.dnsRecords?.map(({ published: _, ...record }) => record),
    );
    const learned: Partial<Facts> = { identity: seen, mailFrom: seenMailFrom, dnsRecords: records, dnsVerified: verified };
    // A verified setup re-checked with the same result writes nothing: steady state costs no API writes. An
    // unverified one shows it is still being checked, but a fast pace must not make every look a status write.
    const showProgress = !verified && !checkedWithin(facts.dnsCheckedAt, now, UNVERIFIED_CHECKED_AT_REFRESH_MS);
    if (changed || showProgress || verifyRequested || recordsChanged) learned.dnsCheckedAt = new Date(now).toISOString();
    if (verifyRequested) learned.lastHandledVerifyRequest = verifyRequest;
    log.debug({ verified, askedSes: askSes, verifyRequested }, 'dns checked');
    const waitingOnSes = !verified && cnamesLive && seen.dkimStatus !== 'SUCCESS';
    const publisherUnread = spec.dnsPublication === 'ExternalDNS' && unreadByExternalDns(dnsEndpoints?.get(name), setup.metadata.uid);
    const delay = schedule.checked(name, verified, setups, now, { waitingOnSes, identityCreatedAt, sesLastCheckedAt, sesRead: askSes, publisherUnread });
    // Counted from before the lookups and SES's answer; past due already: at once, but never 0, which would mean no re-check at all.
    const next = Math.max(1, now + delay - clock());
    // The re-check SES's own check waits for is timed to the moment: it must not then wait for a token behind upkeep.
    if (waitingOnSes) ses.expectUrgentCallIn?.(next);
    // MAIL FROM changed in SES behind the operator's back: the next pass sets spec.mailFrom again.
    return { learned, happened, checkBooked: true, requeueAfterMs: mailFromChangedInSes ? Math.min(next, 1_000) : next };
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

/** While a record is unverified, a check that finds nothing new moves status.dnsCheckedAt at most this often. */
export const UNVERIFIED_CHECKED_AT_REFRESH_MS = 10_000;

/** A time ahead of this clock (another replica's, before a failover) does not count as recent. */
function checkedWithin(checkedAt: string | undefined, now: number, ms: number): boolean {
  const age = checkedAt === undefined ? NaN : now - Date.parse(checkedAt);
  return age >= 0 && age < ms;
}

/** This setup's DNSEndpoint exists and external-dns has not started a sync with its generation yet. */
function unreadByExternalDns(endpoint: DnsEndpoint | undefined, uid: string | undefined): boolean {
  return endpoint !== undefined && ownedBy(endpoint, uid) && !generationObserved(endpoint);
}

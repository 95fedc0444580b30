import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateEmailIdentityCommand,
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  PutEmailIdentityMailFromAttributesCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SesSimulator } from '../../../harness/simulator/server.ts';
import { publishRecords, removeRecords, type PublishedRecord } from '../../../harness/stack/dns-records.ts';
import { startDnsServer, type DnsServer } from '../../../harness/stack/dns-server.ts';
import { simulatorHarness } from './sdk-harness.ts';

const harness = simulatorHarness();
const FAILURE_AFTER_MS = 1_500;

let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(async () => dns?.stop());

const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function statusOf(ses: SESv2Client, domain: string) {
  const identity = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
  const listed = (await ses.send(new ListEmailIdentitiesCommand({}))).EmailIdentities!.find((entry) => entry.IdentityName === domain)!;
  return {
    dkim: identity.DkimAttributes!.Status,
    verification: identity.VerificationStatus,
    verifiedForSending: identity.VerifiedForSendingStatus,
    sendingEnabled: listed.SendingEnabled,
  };
}

describe('DKIM re-checked after SUCCESS, against a real DNS server (BIND)', () => {
  it('lapses to TEMPORARY_FAILURE when the records go, recovers when they return, and turns FAILED when they stay gone', async () => {
    const sim = await harness.simulator({ dnsServers: [dns.address], dkimFailureAfterMs: FAILURE_AFTER_MS });
    const ses = harness.client(sim);
    const domain = `${unique('lapse')}.example.test`;
    const tokens = (await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }))).DkimAttributes!.Tokens!;
    const records: PublishedRecord[] = tokens.map((token) => ({
      name: `${token}._domainkey.${domain}`,
      type: 'CNAME',
      value: `${token}.dkim.amazonses.com`,
      ttl: 1,
    }));
    const verified = { dkim: 'SUCCESS', verification: 'SUCCESS', verifiedForSending: true, sendingEnabled: true };
    const lapsed = { dkim: 'TEMPORARY_FAILURE', verification: 'TEMPORARY_FAILURE', verifiedForSending: false, sendingEnabled: false };

    await publishRecords(dns.address, records);
    await sim.checkDkimNow();
    expect(await statusOf(ses, domain)).toEqual(verified);

    // One record gone is enough for a lapse.
    await removeRecords(dns.address, records.slice(1, 2));
    await sim.checkDkimNow();
    expect(await statusOf(ses, domain)).toEqual(lapsed);
    expect((await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).VerificationInfo!.ErrorType).toBe('HOST_NOT_FOUND');

    await publishRecords(dns.address, records.slice(1, 2));
    await sim.checkDkimNow();
    expect(await statusOf(ses, domain)).toEqual(verified);
    expect((await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).VerificationInfo!.ErrorType).toBeUndefined();

    // The failure window counts from the lapse, not from creation (long past by now).
    await sleep(FAILURE_AFTER_MS);
    await removeRecords(dns.address, records);
    const lapsedAt = Date.now();
    await sim.checkDkimNow();
    expect(await statusOf(ses, domain)).toEqual(lapsed);
    await sim.checkDkimNow();
    expect((await statusOf(ses, domain)).dkim).toBe('TEMPORARY_FAILURE');

    await sleep(Math.max(0, lapsedAt + FAILURE_AFTER_MS + 100 - Date.now()));
    await sim.checkDkimNow();
    expect(await statusOf(ses, domain)).toEqual({ dkim: 'FAILED', verification: 'FAILED', verifiedForSending: false, sendingEnabled: false });
    // FAILED is final: the records coming back change nothing.
    await publishRecords(dns.address, records);
    await sim.checkDkimNow();
    expect((await statusOf(ses, domain)).dkim).toBe('FAILED');
  });
});

describe('custom MAIL FROM: PutEmailIdentityMailFromAttributes and its verification through DNS', () => {
  const mailFromRecords = (mailFrom: string, region: string): PublishedRecord[] => [
    { name: mailFrom, type: 'MX', value: `10 feedback-smtp.${region}.amazonses.com`, ttl: 1 },
    { name: mailFrom, type: 'TXT', value: 'v=spf1 include:amazonses.com ~all', ttl: 1 },
  ];

  async function mailFromOf(ses: SESv2Client, domain: string) {
    return (await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).MailFromAttributes;
  }

  it('goes PENDING -> SUCCESS when MX and SPF both resolve, TEMPORARY_FAILURE when they vanish, back, then FAILED', async () => {
    const sim = await harness.simulator({ dnsServers: [dns.address], dkimFailureAfterMs: FAILURE_AFTER_MS });
    const region = 'eu-west-2';
    const ses = harness.client(sim, region);
    const domain = `${unique('mf')}.example.test`;
    const mailFrom = `bounce.${domain}`;
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    expect(await mailFromOf(ses, domain)).toEqual({ BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' });

    await ses.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: domain, MailFromDomain: mailFrom, BehaviorOnMxFailure: 'REJECT_MESSAGE' }));
    expect(await mailFromOf(ses, domain)).toEqual({ MailFromDomain: mailFrom, MailFromDomainStatus: 'PENDING', BehaviorOnMxFailure: 'REJECT_MESSAGE' });
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('PENDING');

    // The MX alone, or an MX naming another region, is not enough.
    const [mx, spf] = mailFromRecords(mailFrom, region);
    await publishRecords(dns.address, [{ ...mx!, value: '10 feedback-smtp.us-east-1.amazonses.com' }, spf!]);
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('PENDING');
    await publishRecords(dns.address, [mx!]);
    await removeRecords(dns.address, [spf!]);
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('PENDING');

    await publishRecords(dns.address, [spf!]);
    await sim.checkDkimNow();
    expect(await mailFromOf(ses, domain)).toEqual({ MailFromDomain: mailFrom, MailFromDomainStatus: 'SUCCESS', BehaviorOnMxFailure: 'REJECT_MESSAGE' });
    const pass = await fetch(`${sim.url}/_simulator/dkim-check`, { method: 'POST' });
    expect(await pass.json()).toEqual({ dkimStatuses: { PENDING: 1 }, mailFromStatuses: { SUCCESS: 1 } });

    // Putting the same domain again keeps its verification; only the behaviour changes.
    await ses.send(
      new PutEmailIdentityMailFromAttributesCommand({
        EmailIdentity: domain,
        MailFromDomain: mailFrom.toUpperCase(),
        BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
      }),
    );
    expect(await mailFromOf(ses, domain)).toEqual({ MailFromDomain: mailFrom, MailFromDomainStatus: 'SUCCESS', BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' });

    await removeRecords(dns.address, [mx!]);
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('TEMPORARY_FAILURE');
    await publishRecords(dns.address, [mx!]);
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('SUCCESS');

    await removeRecords(dns.address, [mx!, spf!]);
    const lapsedAt = Date.now();
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('TEMPORARY_FAILURE');
    await sleep(Math.max(0, lapsedAt + FAILURE_AFTER_MS + 100 - Date.now()));
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('FAILED');
    expect(sim.state().identities[0]!.mailFrom).toMatchObject({ domain: mailFrom, status: 'FAILED' });

    // An empty MailFromDomain resets it; a new domain starts over at PENDING.
    await ses.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: domain, MailFromDomain: '' }));
    expect(await mailFromOf(ses, domain)).toEqual({ BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' });
    await ses.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: domain, MailFromDomain: `mail.${domain}` }));
    expect(await mailFromOf(ses, domain)).toEqual({
      MailFromDomain: `mail.${domain}`,
      MailFromDomainStatus: 'PENDING',
      BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
    });
  });

  it('turns FAILED when the records never appear within the window', async () => {
    const sim = await harness.simulator({ dnsServers: [dns.address], dkimFailureAfterMs: FAILURE_AFTER_MS });
    const ses = harness.client(sim);
    const domain = `${unique('mfnever')}.example.test`;
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    const setAt = Date.now();
    await ses.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: domain, MailFromDomain: `mf.${domain}` }));
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('PENDING');
    await sleep(Math.max(0, setAt + FAILURE_AFTER_MS + 100 - Date.now()));
    await sim.checkDkimNow();
    expect((await mailFromOf(ses, domain))!.MailFromDomainStatus).toBe('FAILED');
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { VERIFY_ANNOTATION } from '../../../../src/api/group.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import type { SesSetupReconciler } from '../../../../src/controllers/sessetup/reconciler.ts';
import { SesError } from '../../../../src/ses/gateway.ts';
import type { MemorySes } from '../../../support/fakes/ses.ts';
import { condition, newSetup, reconcilerFixture, type FakeCluster, type FakeDns } from './fixture.ts';

const DOMAIN = 'a.example.test';
const BOUNCE = `bounce.${DOMAIN}`;

describe('custom MAIL FROM (spec.mailFrom)', () => {
  let ses: MemorySes;
  let dns: FakeDns;
  let cluster: FakeCluster;
  let events: { reason: string; type: string; message: string }[];
  let clock: { now: number };
  let reconciler: SesSetupReconciler;
  let apply: (setup: SesSetup) => void;

  beforeEach(() => {
    ({ ses, dns, cluster, events, clock, reconciler, apply } = reconcilerFixture());
  });

  const stored = () => cluster.objects.get('a')!;
  const puts = () => ses.calls.filter((call) => call === 'PutEmailIdentityMailFromAttributes').length;
  /** A person edits the spec: the stored status stays, the generation moves. */
  const editSpec = (change: (spec: SesSetup['spec']) => void) => {
    const setup = structuredClone(stored());
    change(setup.spec);
    setup.metadata.generation = (setup.metadata.generation ?? 1) + 1;
    apply(setup);
  };
  /** Reconciles after the next check is due. */
  const later = async (ms = 120_000) => {
    clock.now += ms;
    await reconciler.reconcile('a');
  };
  const sesMailFrom = () => ses.identities.get(DOMAIN)?.mailFrom;

  /** A setup with spec.mailFrom whose DKIM, MX and DMARC are verified; MAIL FROM as SES has it. */
  async function readyButMailFrom(): Promise<void> {
    apply(newSetup('a', { mailFrom: { domain: BOUNCE, behaviorOnMxFailure: 'UseDefaultValue' } }));
    await reconciler.reconcile('a');
    dns.publishFor(stored());
    ses.identities.get(DOMAIN)!.dkimStatus = 'SUCCESS';
  }

  it('sets the domain in SES with the setup, asks for its MX and SPF records, and says what SES waits for', async () => {
    apply(newSetup('a', { mailFrom: { domain: BOUNCE, behaviorOnMxFailure: 'RejectMessage' } }));
    await reconciler.reconcile('a');
    expect(ses.calls).toEqual(['CreateTenant', 'CreateEmailIdentity', 'CreateTenantResourceAssociation', 'PutEmailIdentityMailFromAttributes']);
    expect(sesMailFrom()).toEqual({ domain: BOUNCE, status: 'PENDING', behaviorOnMxFailure: 'RejectMessage' });
    const status = stored().status!;
    expect(status.mailFrom).toEqual({ domain: BOUNCE, behaviorOnMxFailure: 'RejectMessage' });
    expect(status.dnsRecords).toHaveLength(7);
    expect(status.dnsRecords!.slice(5).map((r) => `${r.purpose} ${r.type} ${r.name} ${r.value}`)).toEqual([
      `MAIL_FROM MX ${BOUNCE} 10 feedback-smtp.eu-west-1.amazonses.com`,
      `MAIL_FROM TXT ${BOUNCE} v=spf1 include:amazonses.com ~all`,
    ]);
    expect(status.dnsRecords![5]!.message).toBe(`NXDOMAIN: ${BOUNCE} does not exist; publish MX ${BOUNCE} -> 10 feedback-smtp.eu-west-1.amazonses.com`);
    const ready = condition(stored(), 'MailFromReady')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'MailFromPending' });
    expect(ready.message).toContain(`publish MX ${BOUNCE} -> 10 feedback-smtp.eu-west-1.amazonses.com and TXT ${BOUNCE} "v=spf1 include:amazonses.com ~all"`);
    expect(ready.message).toContain('SES refuses to send from this identity (behaviorOnMxFailure RejectMessage)');
    expect(events.find((e) => e.reason === 'MailFromSet')).toMatchObject({
      type: 'Normal',
      message: `MAIL FROM domain ${BOUNCE} (behaviorOnMxFailure RejectMessage) set on SES identity ${DOMAIN}`,
    });
  });

  it('calls PutEmailIdentityMailFromAttributes no more once status records it: later checks read SES only when it can tell something new', async () => {
    apply(newSetup('a', { mailFrom: { domain: BOUNCE, behaviorOnMxFailure: 'UseDefaultValue' } }));
    await reconciler.reconcile('a');
    const before = ses.calls.length;
    await later();
    // The status SES gives a new MAIL FROM domain is not known yet: one read.
    expect(ses.calls.slice(before)).toEqual(['GetEmailIdentity']);
    expect(stored().status!.mailFrom!.status).toBe('PENDING');
    const after = ses.calls.length;
    await later();
    await later();
    // Nothing published: nothing to ask SES, nothing to set.
    expect(ses.calls.slice(after)).toEqual([]);
    expect(puts()).toBe(1);
  });

  it('turns MailFromReady and Ready True once both records resolve and SES says SUCCESS; the steady state sets nothing again', async () => {
    await readyButMailFrom();
    await later();
    expect(condition(stored(), 'MailFromReady')).toMatchObject({ status: 'False', reason: 'MailFromPending' });
    expect(condition(stored(), 'MailFromReady')!.message).toContain('are published; SES has not confirmed them yet (PENDING');
    ses.identities.get(DOMAIN)!.mailFrom!.status = 'SUCCESS';
    await later();
    const status = stored().status!;
    expect(status.mailFrom!.status).toBe('SUCCESS');
    expect(status.dnsRecords!.every((r) => r.verified)).toBe(true);
    expect(condition(stored(), 'MailFromReady')).toMatchObject({ status: 'True', reason: 'MailFromVerified' });
    expect(condition(stored(), 'Ready')).toMatchObject({
      status: 'True',
      message: 'tenant and identity exist, every DNS record is verified and SES sends with the custom MAIL FROM domain',
    });
    expect(events.filter((e) => e.reason === 'MailFromVerified')).toHaveLength(1);
    const [calls, writes] = [ses.calls.length, cluster.writes];
    await later(2 * 3_600_000);
    // The slow re-check's read-back (drift): its GetEmailIdentity also tells MAIL FROM's status.
    expect(ses.calls.slice(calls)).toEqual(['GetTenant', 'GetEmailIdentity', 'ListResourceTenants']);
    expect(cluster.writes).toBe(writes);
    expect(puts()).toBe(1);
  });

  it('keeps Ready False while only MAIL FROM is unverified, with MailFromReady reason and message', async () => {
    await readyButMailFrom();
    await later();
    const status = stored().status!;
    expect(status.dnsRecords!.filter((r) => !r.verified).map((r) => r.purpose)).toEqual(['MAIL_FROM', 'MAIL_FROM']);
    expect(status.dnsRecords![5]!.message).toBe('published; SES still PENDING MAIL FROM verification (it re-checks on its own schedule)');
    expect(condition(stored(), 'DnsVerified')?.status).toBe('False');
    const ready = condition(stored(), 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'MailFromPending' });
    expect(ready.message).toBe(condition(stored(), 'MailFromReady')!.message);
  });

  it('sets SES again on a change of behaviorOnMxFailure (keeping its verification) and of the domain (records follow)', async () => {
    await readyButMailFrom();
    ses.identities.get(DOMAIN)!.mailFrom!.status = 'SUCCESS';
    await later();
    editSpec((spec) => (spec.mailFrom = { domain: BOUNCE, behaviorOnMxFailure: 'RejectMessage' }));
    await reconciler.reconcile('a');
    expect(puts()).toBe(2);
    expect(sesMailFrom()).toEqual({ domain: BOUNCE, status: 'SUCCESS', behaviorOnMxFailure: 'RejectMessage' });
    expect(stored().status!.mailFrom).toEqual({ domain: BOUNCE, behaviorOnMxFailure: 'RejectMessage', status: 'SUCCESS' });
    expect(condition(stored(), 'Ready')?.status).toBe('True');

    editSpec((spec) => (spec.mailFrom = { domain: `mf.${DOMAIN}`, behaviorOnMxFailure: 'RejectMessage' }));
    await reconciler.reconcile('a');
    expect(puts()).toBe(3);
    expect(sesMailFrom()).toEqual({ domain: `mf.${DOMAIN}`, status: 'PENDING', behaviorOnMxFailure: 'RejectMessage' });
    const status = stored().status!;
    expect(status.mailFrom).toEqual({ domain: `mf.${DOMAIN}`, behaviorOnMxFailure: 'RejectMessage', status: 'PENDING' });
    expect(status.dnsRecords!.slice(5).map((r) => r.name)).toEqual([`mf.${DOMAIN}`, `mf.${DOMAIN}`]);
    expect(condition(stored(), 'Ready')).toMatchObject({ status: 'False', reason: 'MailFromPending' });
    await later();
    expect(puts()).toBe(3);
  });

  it('resets MAIL FROM in SES when spec.mailFrom is removed, and drops its records and condition', async () => {
    await readyButMailFrom();
    await later();
    editSpec((spec) => delete spec.mailFrom);
    await reconciler.reconcile('a');
    expect(puts()).toBe(2);
    expect(sesMailFrom()).toBeUndefined();
    const status = stored().status!;
    expect(status.mailFrom).toBeUndefined();
    expect(status.dnsRecords!.map((r) => r.purpose)).toEqual(['DKIM', 'DKIM', 'DKIM', 'MX', 'DMARC']);
    expect(condition(stored(), 'MailFromReady')).toBeUndefined();
    expect(condition(stored(), 'Ready')).toMatchObject({ status: 'True', message: 'tenant and identity exist and every DNS record is verified' });
    expect(events.find((e) => e.reason === 'MailFromRemoved')?.message).toBe(
      `custom MAIL FROM domain ${BOUNCE} removed from SES identity ${DOMAIN}; SES sends with its default MAIL FROM`,
    );
    await later();
    expect(puts()).toBe(2);
  });

  it('says FAILED is final and what to do; a verify request then sets the domain anew so that SES starts over', async () => {
    await readyButMailFrom();
    ses.identities.get(DOMAIN)!.mailFrom!.status = 'FAILED';
    await later();
    const failed = condition(stored(), 'MailFromReady')!;
    expect(failed).toMatchObject({ status: 'False', reason: 'MailFromFailed' });
    expect(failed.message).toBe(
      `SES gave up verifying MAIL FROM domain ${BOUNCE} (FAILED) and no longer checks it; until then SES sends with its default amazonses.com MAIL FROM (behaviorOnMxFailure UseDefaultValue). ` +
        `Publish MX ${BOUNCE} -> 10 feedback-smtp.eu-west-1.amazonses.com and TXT ${BOUNCE} "v=spf1 include:amazonses.com ~all", then request a verify ` +
        `(ses-operator verify, or a new ${VERIFY_ANNOTATION} annotation): the operator sets the domain in SES again and SES starts over`,
    );
    expect(stored().status!.dnsRecords![5]!.message).toBe(
      'published, but SES reports MAIL FROM FAILED: it stopped checking; request a verify to make SES start over',
    );
    expect(events.find((e) => e.reason === 'MailFromFailed')).toMatchObject({ type: 'Warning' });
    expect(puts()).toBe(1);

    const requested = structuredClone(stored());
    requested.metadata.annotations = { [VERIFY_ANNOTATION]: 'again' };
    apply(requested);
    const before = ses.calls.length;
    await reconciler.reconcile('a');
    // The verify request's read-back (drift), the reset and the new set, then a read of the fresh status.
    expect(ses.calls.slice(before)).toEqual([
      'GetTenant',
      'GetEmailIdentity',
      'ListResourceTenants',
      'PutEmailIdentityMailFromAttributes',
      'PutEmailIdentityMailFromAttributes',
      'GetEmailIdentity',
    ]);
    expect(sesMailFrom()?.status).toBe('PENDING');
    expect(stored().status!.mailFrom!.status).toBe('PENDING');
    expect(stored().status!.lastHandledVerifyRequest).toBe('again');
    await reconciler.reconcile('a');
    expect(puts()).toBe(3);
  });

  it('names TEMPORARY_FAILURE and what RejectMessage means meanwhile', async () => {
    apply(newSetup('a', { mailFrom: { domain: BOUNCE, behaviorOnMxFailure: 'RejectMessage' } }));
    await reconciler.reconcile('a');
    dns.publishFor(stored());
    ses.identities.get(DOMAIN)!.mailFrom!.status = 'TEMPORARY_FAILURE';
    await later();
    const temporary = condition(stored(), 'MailFromReady')!;
    expect(temporary.reason).toBe('MailFromTemporaryFailure');
    expect(temporary.message).toContain('until then SES refuses to send from this identity (behaviorOnMxFailure RejectMessage)');
    expect(temporary.message).toContain('if they stay missing, SES marks the domain FAILED');
    expect(events.find((e) => e.reason === 'MailFromTemporaryFailure')?.type).toBe('Warning');
  });

  it('sets spec.mailFrom again when someone changed the domain in SES', async () => {
    await readyButMailFrom();
    ses.identities.get(DOMAIN)!.mailFrom!.status = 'SUCCESS';
    await later();
    ses.identities.get(DOMAIN)!.mailFrom = { domain: `other.${DOMAIN}`, status: 'PENDING', behaviorOnMxFailure: 'UseDefaultValue' };
    await later(2 * 3_600_000);
    expect(events.find((e) => e.reason === 'MailFromChanged')?.message).toContain(`has MAIL FROM domain other.${DOMAIN}, not ${BOUNCE}`);
    // The slow re-check's read-back saw it, and the same pass set spec.mailFrom again.
    expect(puts()).toBe(2);
    await reconciler.reconcile('a');
    expect(puts()).toBe(2);
    expect(sesMailFrom()?.domain).toBe(BOUNCE);
    // Turned off in SES before the operator's first read of it: set again all the same.
    delete ses.identities.get(DOMAIN)!.mailFrom;
    await later();
    expect(events.filter((e) => e.reason === 'MailFromChanged').at(-1)?.message).toContain(`has MAIL FROM domain (none), not ${BOUNCE}`);
    await reconciler.reconcile('a');
    expect(puts()).toBe(3);
    expect(sesMailFrom()).toMatchObject({ domain: BOUNCE, status: 'PENDING' });
  });

  it('treats an identity gone from SES at the MAIL FROM call as IdentityMissing, and creates it again', async () => {
    await readyButMailFrom();
    editSpec((spec) => (spec.mailFrom = { domain: BOUNCE, behaviorOnMxFailure: 'RejectMessage' }));
    ses.failNext.set('PutEmailIdentityMailFromAttributes', new SesError('NotFound', 'PutEmailIdentityMailFromAttributes', 'NotFoundException: gone'));
    await reconciler.reconcile('a');
    expect(condition(stored(), 'IdentityReady')).toMatchObject({ status: 'False', reason: 'IdentityMissing' });
    expect(stored().status!.identity).toBeUndefined();
    expect(stored().status!.mailFrom).toBeUndefined();
  });

  it('shows the call failure and retries when PutEmailIdentityMailFromAttributes fails', async () => {
    ses.failNext.set('PutEmailIdentityMailFromAttributes', new SesError('Other', 'PutEmailIdentityMailFromAttributes', 'InternalFailure: no'));
    apply(newSetup('a', { mailFrom: { domain: BOUNCE, behaviorOnMxFailure: 'UseDefaultValue' } }));
    await expect(reconciler.reconcile('a')).rejects.toThrow(/InternalFailure/);
    expect(condition(stored(), 'MailFromReady')).toMatchObject({ status: 'False', reason: 'MailFromNotSet' });
    expect(stored().status!.identity?.tenantAssociated).toBe(true);
    await reconciler.reconcile('a');
    expect(sesMailFrom()?.domain).toBe(BOUNCE);
    expect(stored().status!.dnsRecords).toHaveLength(7);
  });
});

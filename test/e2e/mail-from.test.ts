import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
let operator: OperatorProcess;

/** The identity as the simulator holds it (SES's own state, not what the operator wrote). */
async function sesIdentity(domain: string) {
  return (await c.sim.state()).identities.find((identity) => identity.name === domain);
}

async function setupWhere(name: string, what: string, holds: (setup: SesSetup) => boolean): Promise<SesSetup> {
  return waitUntil(what, async () => {
    const setup = await c.getSetup(name);
    return setup && holds(setup) ? setup : undefined;
  });
}

describe('custom MAIL FROM end to end (real API server, BIND, SES simulator through the AWS SDK)', () => {
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator();
  });
  afterAll(async () => operator?.stop());

  it('sets the MAIL FROM domain in SES, turns Ready once its records are published, follows a change and resets SES on removal', async () => {
    const id = uniqueSuffix();
    const name = `mf-${id}`;
    const domain = `mail.mf-${id}.test`;
    const bounce = `bounce.${domain}`;
    const created = await c.createSetup(name, { tenantName: `mf_${id}`, domainIdentity: domain, mailFrom: { domain: bounce } });
    expect(created.spec.mailFrom).toEqual({ domain: bounce, behaviorOnMxFailure: 'UseDefaultValue' });

    // Seven records: the five of every setup, then the MAIL FROM MX and SPF TXT.
    const setup = await setupWhere(name, 'seven records in status', (s) => s.status?.dnsRecords?.length === 7);
    const records = setup.status!.dnsRecords!;
    expect(records.map((r) => r.purpose)).toEqual(['DKIM', 'DKIM', 'DKIM', 'MX', 'DMARC', 'MAIL_FROM', 'MAIL_FROM']);
    expect(records.slice(5).map((r) => [r.type, r.name, r.value])).toEqual([
      ['MX', bounce, `10 feedback-smtp.${c.stack.region}.amazonses.com`],
      ['TXT', bounce, 'v=spf1 include:amazonses.com ~all'],
    ]);
    let identity = await sesIdentity(domain);
    expect(identity?.mailFrom).toMatchObject({ domain: bounce, status: 'PENDING' });
    expect(identity?.behaviorOnMxFailure).toBe('USE_DEFAULT_VALUE');
    expect(condition(setup, 'MailFromReady')).toMatchObject({ status: 'False', reason: 'MailFromPending' });

    // The customer publishes all seven; the simulator checks DNS as SES does.
    await publishRecords(
      c.stack.dnsServer,
      records.map((r) => ({ name: r.name, type: r.type, value: r.value })),
    );
    await c.kubectl(['wait', '--for=condition=MailFromReady', `sessetup/${name}`, '--timeout=60s']);
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/${name}`, '--timeout=60s']);
    const ready = (await c.getSetup(name))!;
    expect(ready.status!.mailFrom).toEqual({ domain: bounce, behaviorOnMxFailure: 'UseDefaultValue', status: 'SUCCESS' });
    expect(ready.status!.dnsRecords!.every((r) => r.verified)).toBe(true);
    expect(condition(ready, 'MailFromReady')?.reason).toBe('MailFromVerified');
    expect((await sesIdentity(domain))?.mailFrom?.status).toBe('SUCCESS');

    // A new behaviorOnMxFailure: one call to SES, the verification kept.
    const before = await c.sim.mark();
    await c.kubectl(['patch', 'sessetup', name, '--type=merge', '-p', JSON.stringify({ spec: { mailFrom: { behaviorOnMxFailure: 'RejectMessage' } } })]);
    await waitUntil('SES to reject on MX failure', async () => ((await sesIdentity(domain))?.behaviorOnMxFailure === 'REJECT_MESSAGE' ? true : undefined));
    const changed = await setupWhere(name, 'status to record RejectMessage', (s) => s.status?.mailFrom?.behaviorOnMxFailure === 'RejectMessage');
    expect(changed.status!.mailFrom!.status).toBe('SUCCESS');
    expect(condition(changed, 'Ready')?.status).toBe('True');
    identity = await sesIdentity(domain);
    expect(identity?.mailFrom).toMatchObject({ domain: bounce, status: 'SUCCESS' });
    const puts = (await c.sim.calls(before)).log.filter((call) => call.operation === 'PutEmailIdentityMailFromAttributes' && call.target === domain);
    expect(puts).toHaveLength(1);

    // Removed: SES back to its default MAIL FROM, five records, no MailFromReady.
    await c.kubectl(['patch', 'sessetup', name, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/mailFrom' }])]);
    const removed = await setupWhere(
      name,
      'five records and no MailFromReady',
      (s) => s.status?.dnsRecords?.length === 5 && !condition(s, 'MailFromReady') && s.status.observedGeneration === s.metadata.generation,
    );
    expect(removed.status!.mailFrom).toBeUndefined();
    expect(removed.status!.dnsRecords!.map((r) => r.purpose)).toEqual(['DKIM', 'DKIM', 'DKIM', 'MX', 'DMARC']);
    expect(condition(removed, 'Ready')?.status).toBe('True');
    identity = await sesIdentity(domain);
    expect(identity?.mailFrom).toBeUndefined();
    expect(identity?.behaviorOnMxFailure).toBe('USE_DEFAULT_VALUE');
    await c.deleteSetup(name);
  });

  it('refuses a MAIL FROM domain outside domainIdentity, on create and on change, naming the field and the rule', async () => {
    const id = uniqueSuffix();
    const domain = `mail.out-${id}.test`;
    const manifest = (mailFrom: string) =>
      JSON.stringify({
        apiVersion: 'ses.channels.dev/v1alpha1',
        kind: 'SesSetup',
        metadata: { name: `out-${id}` },
        spec: { tenantName: `out_${id}`, domainIdentity: domain, mailFrom: { domain: mailFrom } },
      });
    const refused = await c.kubectl(['create', '-f', '-'], manifest(`bounce.out-${id}.test`)).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused?.message).toContain('spec.mailFrom.domain');
    expect(refused?.message).toContain('mailFrom.domain must be a subdomain of domainIdentity');
    await c.kubectl(['create', '-f', '-'], manifest(`bounce.${domain}`));
    const changed = await c
      .kubectl(['patch', 'sessetup', `out-${id}`, '--type=merge', '-p', JSON.stringify({ spec: { mailFrom: { domain: `bounce.elsewhere-${id}.test` } } })])
      .then(
        () => undefined,
        (error: Error) => error,
      );
    expect(changed?.message).toContain('mailFrom.domain must be a subdomain of domainIdentity');
    expect((await c.getSetup(`out-${id}`))?.spec.mailFrom?.domain).toBe(`bounce.${domain}`);
    await c.deleteSetup(`out-${id}`);
  });
});

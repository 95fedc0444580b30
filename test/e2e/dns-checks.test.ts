import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsRecord, SesSetup } from '../../src/api/sessetup.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const c = cluster();
let operator: OperatorProcess;

async function mxRecord(name: string): Promise<DnsRecord | undefined> {
  return (await c.getSetup(name))?.status?.dnsRecords?.find((record) => record.purpose === 'MX');
}

/** Waits until the live check has seen exactly these MX answers, and returns the MX record then. */
async function mxSeen(name: string, answers: string[]): Promise<DnsRecord> {
  return waitUntil(`the MX check of ${name} to see ${answers.join(', ')}`, async () => {
    const record = await mxRecord(name);
    return record && [...record.observed].sort().join('|') === [...answers].sort().join('|') ? record : undefined;
  });
}

describe('DNS checks against the real BIND', () => {
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator();
  });
  afterAll(async () => operator?.stop());

  it('verifies the MX only while the SES inbound host alone has the lowest preference value', async () => {
    const id = uniqueSuffix();
    const name = `mxp-${id}`;
    await c.createSetup(name, { tenantName: `mxp_${id}`, domainIdentity: `mail.mxp-${id}.test` });
    const setup = await waitUntil<SesSetup>('records in status', async () => {
      const found = await c.getSetup(name);
      return found?.status?.dnsRecords?.length === 5 ? found : undefined;
    });
    const records = setup.status!.dnsRecords!;
    const mx = records.find((record) => record.purpose === 'MX')!;
    const sesHost = mx.value.split(' ')[1]!;
    const other = `mx.other-${id}.test`;
    const publishMx = (...values: string[]) =>
      publishRecords(
        c.stack.dnsServer,
        values.map((value) => ({ name: mx.name, type: 'MX' as const, value })),
      );

    // Everything as asked, plus a competing MX with a lower preference value: mail would go there first.
    await publishRecords(
      c.stack.dnsServer,
      records.filter((record) => record.purpose !== 'MX').map((r) => ({ name: r.name, type: r.type, value: r.value })),
    );
    await publishMx(mx.value, `5 ${other}`);
    const lower = await mxSeen(name, [`10 ${sesHost}`, `5 ${other}`]);
    expect(lower.verified).toBe(false);
    expect(lower.message).toBe(
      `another MX receives the mail first: ${other} has preference 5, lower than 10 for ${sesHost}; remove it or give ${sesHost} the lowest preference value`,
    );
    const summary = await waitUntil('DnsVerified to name the MX problem', async () => {
      const found = condition(await c.getSetup(name), 'DnsVerified');
      return found?.message.includes('MX: another MX receives the mail first') ? found : undefined;
    });
    expect(summary.status).toBe('False');
    expect(condition(await c.getSetup(name), 'Ready')?.status).toBe('False');

    // The same preference value: a tie is not verified either (senders pick at random among equals).
    await publishMx(mx.value, `10 ${other}`);
    const tie = await mxSeen(name, [`10 ${sesHost}`, `10 ${other}`]);
    expect(tie.verified).toBe(false);
    expect(tie.message).toMatch(new RegExp(`^MX preference tie: ${other.replace(/\./g, '\\.')} has the same preference 10 as `));

    // The competitor removed: verified, and the setup turns Ready.
    await publishMx(mx.value);
    const alone = await mxSeen(name, [`10 ${sesHost}`]);
    expect(alone).toMatchObject({ verified: true, message: '' });
    await c.kubectl(['wait', '--for=condition=Ready', `sessetup/${name}`, '--timeout=60s']);

    await c.deleteSetup(name);
    await waitUntil('the setup to be gone', async () => (await c.getSetup(name)) === undefined);
  });
});

import { describe, expect, it } from 'vitest';
import { VERIFY_ANNOTATION } from '../../../../src/api/group.ts';
import { condition, newSetup, reconcileToVerified, reconcilerFixture } from './fixture.ts';

const HOUR = 3_600_000;

/** The SES calls made by `action` and the priority each was given, as "Operation priority". */
async function callsOf(f: ReturnType<typeof reconcilerFixture>, action: () => Promise<unknown>): Promise<string[]> {
  const from = f.ses.calls.length;
  await action();
  return f.ses.calls.slice(from).map((operation, i) => `${operation} ${f.ses.callPriorities[from + i]}`);
}

/** A setup created, published and verified by SES. */
async function verifiedSetup() {
  const f = reconcilerFixture();
  await reconcileToVerified(f);
  expect(condition(f.cluster.objects.get('a'), 'Ready')?.status).toBe('True');
  return f;
}

describe('SES call priority: urgent while someone waits on the setup, routine for upkeep', () => {
  it("makes a new setup's creates and its checks until verified urgent", async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a'));
    expect(await callsOf(f, () => f.reconciler.reconcile('a'))).toEqual([
      'CreateTenant urgent',
      'CreateEmailIdentity urgent',
      'CreateTenantResourceAssociation urgent',
    ]);
    f.dns.publishFor(f.cluster.objects.get('a')!);
    f.ses.identities.get('a.example.test')!.dkimStatus = 'SUCCESS';
    f.clock.now += 60_000;
    // The check that finds it verified was made for a setup not verified yet.
    expect(await callsOf(f, () => f.reconciler.reconcile('a'))).toEqual(['GetEmailIdentity urgent']);
    expect(f.cluster.objects.get('a')!.status?.dnsVerified).toBe(true);
  });

  it("makes a verified setup's slow re-check and drift read-back routine", async () => {
    const f = await verifiedSetup();
    f.clock.now += HOUR;
    expect(await callsOf(f, () => f.reconciler.reconcile('a'))).toEqual(['GetTenant routine', 'GetEmailIdentity routine', 'ListResourceTenants routine']);
  });

  it('makes the calls of a pending verify request urgent, and the next slow re-check routine again', async () => {
    const f = await verifiedSetup();
    const stored = f.cluster.objects.get('a')!;
    stored.metadata.annotations = { [VERIFY_ANNOTATION]: 'now-1' };
    f.cluster.put(stored);
    expect(await callsOf(f, () => f.reconciler.reconcile('a'))).toEqual(['GetTenant urgent', 'GetEmailIdentity urgent', 'ListResourceTenants urgent']);
    expect(f.cluster.objects.get('a')!.status?.lastHandledVerifyRequest).toBe('now-1');
    f.clock.now += HOUR;
    expect(await callsOf(f, () => f.reconciler.reconcile('a'))).toEqual(['GetTenant routine', 'GetEmailIdentity routine', 'ListResourceTenants routine']);
  });

  it("makes a deletion's teardown urgent, even of a verified setup", async () => {
    const f = await verifiedSetup();
    f.cluster.markDeleted('a');
    const calls = await callsOf(f, () => f.reconciler.reconcile('a'));
    expect(calls).toContain('DeleteTenant urgent');
    expect(calls.every((call) => call.endsWith(' urgent'))).toBe(true);
    expect(f.cluster.objects.has('a')).toBe(false);
  });

  it('makes the teardown of a setup removed without its finalizer routine: its deletion is over', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('gone'));
    await f.reconciler.reconcile('gone');
    const last = structuredClone(f.cluster.objects.get('gone')!);
    f.cluster.objects.delete('gone');
    f.reconciler.vanished(last);
    const calls = await callsOf(f, () => f.reconciler.reconcile('gone'));
    expect(calls).toContain('DeleteTenant routine');
    expect(calls.every((call) => call.endsWith(' routine'))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import type { LookupOptions } from '../../../../src/dns/lookup.ts';
import { newSetup, reconcilerFixture } from './fixture.ts';

/** Lets the reconcile reach its pending call, then aborts it. */
async function abortWhilePending(f: ReturnType<typeof reconcilerFixture>, operation: string) {
  const abort = new AbortController();
  f.ses.hang.add(operation);
  const reconcile = f.reconciler.reconcile('a', { signal: abort.signal });
  await new Promise((resolve) => setTimeout(resolve, 10));
  expect(f.ses.calls.at(-1)).toBe(operation);
  abort.abort(new Error('shutting down'));
  await expect(reconcile).rejects.toThrow('shutting down');
  f.ses.hang.delete(operation);
  return abort.signal;
}

describe("the reconcile's abort signal reaches every SES call and DNS lookup", () => {
  it('ends a pending create: the reconcile rejects with the abort instead of waiting for SES', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a'));
    const signal = await abortWhilePending(f, 'CreateTenant');
    expect(f.ses.callSignals).toEqual([signal]);
    expect(f.ses.tenants.size).toBe(0);
  });

  it('passes it to the identity, association, read-back and DNS calls', async () => {
    const f = reconcilerFixture();
    const lookups: (AbortSignal | undefined)[] = [];
    const lookup = f.dns.lookup.bind(f.dns);
    f.dns.lookup = (type, name, options?: LookupOptions) => {
      lookups.push(options?.signal);
      return lookup(type, name);
    };
    f.apply(newSetup('a'));
    const signal = new AbortController().signal;
    await f.reconciler.reconcile('a', { signal });
    f.dns.publishFor(f.cluster.objects.get('a')!);
    f.ses.identities.get('a.example.test')!.dkimStatus = 'SUCCESS';
    f.clock.now += 60_000;
    await f.reconciler.reconcile('a', { signal });
    f.clock.now += 3_600_000;
    await f.reconciler.reconcile('a', { signal });
    expect(f.ses.calls).toContain('ListResourceTenants');
    expect(f.ses.callSignals.every((given) => given === signal)).toBe(true);
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.every((given) => given === signal)).toBe(true);
  });

  it('ends a pending teardown call of a deleting setup', async () => {
    const f = reconcilerFixture();
    f.apply(newSetup('a'));
    await f.reconciler.reconcile('a');
    f.cluster.markDeleted('a');
    f.ses.calls.length = 0;
    f.ses.callSignals.length = 0;
    const signal = await abortWhilePending(f, 'GetTenant');
    expect(f.ses.callSignals).toEqual([signal]);
    expect(f.ses.tenants.has('a_t')).toBe(true);
    // The next reconcile, not aborted, finishes the teardown.
    await f.reconciler.reconcile('a');
    expect(f.ses.tenants.size).toBe(0);
    expect(f.cluster.objects.has('a')).toBe(false);
  });
});

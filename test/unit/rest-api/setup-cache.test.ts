import { describe, expect, it } from 'vitest';
import type { SesSetup } from '../../../src/api/sessetup.ts';
import type { InformerEventHandler } from '../../../src/runtime/informer.ts';
import { RefreshCoordinator } from '../../../src/rest-api/refresh.ts';
import { SetupCache, type SetupSource } from '../../../src/rest-api/setup-cache.ts';

/** An informer double: a map plus the handlers the cache registers. */
function fakeInformer() {
  const objects = new Map<string, SesSetup>();
  const handlers: InformerEventHandler<SesSetup>[] = [];
  const source: SetupSource = {
    get: (name) => objects.get(name),
    hasSynced: () => true,
    addEventHandler: (handler) => (handlers.push(handler), () => {}),
  };
  return {
    source,
    put(setup: SesSetup) {
      const old = objects.get(setup.metadata.name);
      objects.set(setup.metadata.name, setup);
      for (const h of handlers) old ? h.onUpdate?.(setup, old) : h.onAdd?.(setup, { initialList: false });
    },
    remove(name: string) {
      const old = objects.get(name)!;
      objects.delete(name);
      for (const h of handlers) h.onDelete?.(old, { finalStateUnknown: false });
    },
  };
}

const setup = (name: string, created: string, extra: Partial<SesSetup['status']> = {}): SesSetup => ({
  apiVersion: 'ses.channels.dev/v1alpha1',
  kind: 'SesSetup',
  metadata: { name, uid: `00000000-0000-4000-8000-${name.padStart(12, '0')}`, creationTimestamp: created },
  spec: { tenantName: `t_${name}`, domainIdentity: `${name}.example.com`, deletionPolicy: 'Delete', adoptionPolicy: 'Never', dnsPublication: 'Manual' },
  status: extra,
});

describe('SetupCache', () => {
  it('orders by creation time then name, and finds setups by UID, tenant and domain', () => {
    const informer = fakeInformer();
    const cache = new SetupCache(informer.source);
    informer.put(setup('c', '2026-01-01T00:00:01Z'));
    informer.put(setup('b', '2026-01-01T00:00:00Z'));
    informer.put(setup('a', '2026-01-01T00:00:01Z'));
    expect(cache.page(0, 10)).toEqual(['b', 'a', 'c']);
    expect(cache.page(1, 1)).toEqual(['a']);
    expect(cache.nameOfUid('00000000-0000-4000-8000-00000000000A')).toBe('a');
    expect(cache.nameOfTenant('t_c')).toBe('c');
    expect(cache.nameOfDomain('B.example.com')).toBe('b');
    informer.put(setup('a', '2026-01-01T00:00:01Z', { dnsVerified: true }));
    expect(cache.total).toBe(3);
    informer.remove('a');
    expect(cache.page(0, 10)).toEqual(['b', 'c']);
    expect(cache.nameOfUid('00000000-0000-4000-8000-00000000000a')).toBeUndefined();
  });

  it('wakes a waiter when its predicate holds, and gives undefined when the wait runs out', async () => {
    const informer = fakeInformer();
    const cache = new SetupCache(informer.source);
    informer.put(setup('a', '2026-01-01T00:00:00Z'));
    const wait = cache.waitFor('a', (s) => s?.status?.lastHandledVerifyRequest === 'r1', 5_000);
    informer.put(setup('a', '2026-01-01T00:00:00Z', { lastHandledVerifyRequest: 'r0' }));
    informer.put(setup('a', '2026-01-01T00:00:00Z', { lastHandledVerifyRequest: 'r1' }));
    expect((await wait.done)?.status?.lastHandledVerifyRequest).toBe('r1');
    expect(await cache.waitFor('a', () => false, 10).done).toBeUndefined();
  });
});

describe('RefreshCoordinator', () => {
  it('shares one check among concurrent refreshes of a setup and answers with the echoed result', async () => {
    const informer = fakeInformer();
    const cache = new SetupCache(informer.source);
    informer.put(setup('a', '2026-01-01T00:00:00Z'));
    const requests: string[] = [];
    const refresh = new RefreshCoordinator({
      cache,
      timeoutMs: 5_000,
      // The operator's answer: it echoes the request into status a moment later.
      requestCheck: async (s, request) => {
        requests.push(request);
        setTimeout(() => informer.put(setup('a', '2026-01-01T00:00:00Z', { lastHandledVerifyRequest: request, dnsCheckedAt: '2026-01-02T00:00:00Z' })), 20);
      },
    });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => refresh.refresh(cache.get('a')!)));
    expect(requests).toHaveLength(1);
    expect(outcomes.every((o) => o.refreshed && o.notice === null && o.setup.status?.dnsCheckedAt === '2026-01-02T00:00:00Z')).toBe(true);
    expect(refresh.inflight).toBe(0);
    await refresh.refresh(cache.get('a')!);
    expect(requests).toHaveLength(2); // a later refresh asks again
  });

  it('answers with the last result and a notice when no check comes back in time', async () => {
    const informer = fakeInformer();
    const cache = new SetupCache(informer.source);
    informer.put(setup('a', '2026-01-01T00:00:00Z', { dnsCheckedAt: '2026-01-01T12:00:00Z' }));
    const refresh = new RefreshCoordinator({ cache, timeoutMs: 30, requestCheck: async () => {} });
    const outcome = await refresh.refresh(cache.get('a')!);
    expect(outcome.refreshed).toBe(false);
    expect(outcome.notice).toBe(
      'the live check did not finish within 0.03s; this is the last known result (the check of 2026-01-01T12:00:00Z); ask again later',
    );
  });
});

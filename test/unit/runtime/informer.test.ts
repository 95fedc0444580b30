import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, Informer, isResourceExpired, type InformerOptions, type ListWatchSource, type WatchEvent } from '../../../src/runtime/informer.ts';
import { FakeListWatch, recordingLogger } from '../../support/fakes/index.ts';

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion: string; managedFields?: unknown[] };
  data?: Record<string, string>;
}

const obj = (name: string, resourceVersion: string, data: Record<string, string> = {}): Obj => ({
  metadata: { name, namespace: 'ns', resourceVersion, managedFields: [{ manager: 'kubectl' }] },
  data,
});

function recordHandlers(informer: Informer<Obj>) {
  const seen: string[] = [];
  informer.onAdd((o) => seen.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`));
  informer.onUpdate((n, o) => seen.push(`update ${n.metadata.name}@${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`));
  informer.onDelete((o, { finalStateUnknown }) =>
    seen.push(`delete ${o.metadata.name}@${o.metadata.resourceVersion}${finalStateUnknown ? ' (final state unknown)' : ''}`),
  );
  return seen;
}

/** The names in the informer's cache, sorted. */
const cachedNames = (informer: Informer<Obj>) =>
  informer
    .list()
    .map((o) => o.metadata.name)
    .sort();

const informers: Informer<Obj>[] = [];
function makeInformer(source: FakeListWatch<Obj>, options: Partial<InformerOptions<Obj>> = {}): Informer<Obj> {
  const informer = new Informer<Obj>({ source, backoff: { initialMs: 1, maxMs: 5 }, ...options } as InformerOptions<Obj>);
  informers.push(informer);
  return informer;
}

afterEach(async () => {
  await Promise.all(informers.splice(0).map((informer) => informer.stop()));
});

const connectionRefused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
const expiredEvent = { kind: 'Status', status: 'Failure', message: 'too old resource version: 1 (5)', reason: 'Expired', code: 410 };

describe('Informer (fake API server)', () => {
  it('lists page by page, stores every object by namespace/name and then watches from the list resourceVersion', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = Array.from({ length: 12 }, (_, i) => obj(`cm${i}`, String(10 + i)));
    const informer = makeInformer(source, { pageSize: 5 });
    const seen = recordHandlers(informer);
    informer.start();
    await informer.waitForSync();
    expect(source.lists).toEqual([
      { limit: 5, continueToken: undefined },
      { limit: 5, continueToken: '5' },
      { limit: 5, continueToken: '10' },
    ]);
    expect(informer.list()).toHaveLength(12);
    expect(informer.get('ns/cm11')?.metadata.resourceVersion).toBe('21');
    expect(seen.filter((line) => line.startsWith('add'))).toHaveLength(12);
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    expect(source.lastWatch().resourceVersion).toBe('100');
    expect(informer.health()).toMatchObject({ synced: true, watching: true, consecutiveFailures: 0 });
    expect(informer.health().lastSyncAt).toBeGreaterThan(0);
  });

  it('drops managedFields by default and applies a custom transform instead when given', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = [obj('a', '1')];
    const plain = makeInformer(source);
    plain.start();
    await plain.waitForSync();
    expect(plain.get('ns/a')!.metadata).not.toHaveProperty('managedFields');

    const custom = makeInformer(source, { transform: (o) => ({ ...o, data: { transformed: 'yes' } }) });
    custom.start();
    await custom.waitForSync();
    expect(custom.get('ns/a')!.data).toEqual({ transformed: 'yes' });
  });

  it('passes the old object to onUpdate, skips unchanged resourceVersions and removes deleted objects', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = [obj('a', '1', { v: 'one' })];
    const informer = makeInformer(source);
    const seen = recordHandlers(informer);
    const olds: Obj[] = [];
    informer.onUpdate((_, old) => void olds.push(old));
    informer.start();
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    const { stream } = source.lastWatch();
    stream.push('ADDED', obj('b', '101'));
    stream.push('MODIFIED', obj('a', '102', { v: 'two' }));
    stream.push('MODIFIED', obj('a', '102', { v: 'two' }));
    stream.push('DELETED', obj('b', '103'));
    await vi.waitFor(() => expect(seen).toHaveLength(4));
    expect(seen).toEqual(['add a@1', 'add b@101', 'update a@1->102', 'delete b@103']);
    expect(olds[0]!.data).toEqual({ v: 'one' });
    expect(informer.get('ns/a')!.data).toEqual({ v: 'two' });
    expect(informer.get('ns/b')).toBeUndefined();
  });

  it('watches again from the last seen resourceVersion (bookmarks included) after a normal end, without relisting', async () => {
    const source = new FakeListWatch<Obj>();
    const informer = makeInformer(source);
    informer.start();
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    source.lastWatch().stream.push('ADDED', obj('a', '150'));
    source.lastWatch().stream.push('BOOKMARK', { metadata: { resourceVersion: '180' } });
    source.lastWatch().stream.end();
    await vi.waitFor(() => expect(source.watches).toHaveLength(2));
    expect(source.lastWatch().resourceVersion).toBe('180');
    expect(source.lists).toHaveLength(1);
  });

  it('relists on a 410 ERROR event and emits adds, updates and deletes (with the last known object) for what changed', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = [obj('same', '1'), obj('changed', '2', { v: 'old' }), obj('gone', '3', { last: 'known' })];
    const informer = makeInformer(source);
    const seen = recordHandlers(informer);
    const deleted: Obj[] = [];
    informer.onDelete((o) => void deleted.push(o));
    informer.start();
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    source.objects = [obj('same', '1'), obj('changed', '20', { v: 'new' }), obj('new', '21')];
    source.resourceVersion = '300';
    source.lastWatch().stream.push('ERROR', expiredEvent);
    await vi.waitFor(() => expect(source.watches).toHaveLength(2));
    expect(source.lists).toHaveLength(2);
    expect(source.lastWatch().resourceVersion).toBe('300');
    expect(seen.slice(3).sort()).toEqual(['add new@21', 'delete gone@3 (final state unknown)', 'update changed@2->20']);
    expect(deleted[0]!.data).toEqual({ last: 'known' });
    expect(cachedNames(informer)).toEqual(['changed', 'new', 'same']);
    expect(informer.health().consecutiveFailures).toBe(0);
  });

  it('packed: keeps objects deflated against the first one as dictionary and gives back exact copies, across updates and a relist', async () => {
    const source = new FakeListWatch<Obj>();
    const big = (i: number, rv: string) => obj(`cm${i}`, rv, { payload: `value-${i}-`.repeat(50), shared: 'x'.repeat(300) });
    source.objects = Array.from({ length: 20 }, (_, i) => big(i, String(i + 1)));
    const informer = makeInformer(source, { packed: true });
    const seen = recordHandlers(informer);
    informer.start();
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    const { managedFields: _, ...metadata } = big(7, '8').metadata;
    expect(informer.get('ns/cm7')).toEqual({ ...big(7, '8'), metadata });
    // get() hands out a copy: changing it does not change the cache.
    informer.get('ns/cm7')!.data!.payload = 'changed';
    expect(informer.get('ns/cm7')!.data!.payload).toBe(big(7, '8').data!.payload);
    source.lastWatch().stream.push('MODIFIED', obj('cm3', '100', { payload: 'new' }));
    await vi.waitFor(() => expect(informer.get('ns/cm3')?.data).toEqual({ payload: 'new' }));
    expect(seen.at(-1)).toBe('update cm3@4->100');
    // A relist builds a fresh store (with its own dictionary): everything still reads back exactly.
    source.objects = [obj('other', '200', { a: 'b' }), big(5, '201')];
    source.resourceVersion = '300';
    source.lastWatch().stream.push('ERROR', expiredEvent);
    await vi.waitFor(() => expect(informer.size()).toBe(2));
    expect(informer.get('ns/other')?.data).toEqual({ a: 'b' });
    expect(informer.get('ns/cm5')?.data).toEqual(big(5, '201').data);
  });

  it('packed: values() unpacks one object at a time, so a pass over the cache never holds every object at once', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const source = new FakeListWatch<Obj>();
    source.objects = Array.from({ length: 50 }, (_, i) => obj(`cm${i}`, String(i + 1), { payload: `value-${i}-`.repeat(50) }));
    const informer = makeInformer(source, { packed: true });
    informer.start();
    await informer.waitForSync();
    const passed: WeakRef<Obj>[] = [];
    let count = 0;
    for (const object of informer.values()) {
      passed.push(new WeakRef(object));
      // A WeakRef keeps its target until the current job ends: let it end before collecting.
      await new Promise((resolve) => setImmediate(resolve));
      if (++count === 40) gc();
    }
    expect(count).toBe(50);
    // Unpacked copies already passed are garbage while the pass goes on (list() would hold all of them).
    expect(passed.slice(0, 30).filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });

  it('relists when the watch request itself answers 410 Gone', async () => {
    const source = new FakeListWatch<Obj>();
    source.watchFailures = [new ApiError(410, 'Gone', 'Gone')];
    const informer = makeInformer(source);
    informer.start();
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    expect(source.lists).toHaveLength(2);
  });

  it('retries a failing watch with backoff from the last resourceVersion, reporting failures in health until it recovers', async () => {
    const source = new FakeListWatch<Obj>();
    const informer = makeInformer(source);
    const healthAtEachWatch: ReturnType<typeof informer.health>[] = [];
    const realWatch = source.watch.bind(source);
    source.watch = (options, signal) => {
      healthAtEachWatch.push(informer.health());
      return realWatch(options, signal);
    };
    informer.start();
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    source.lastWatch().stream.push('MODIFIED', obj('a', '120'));
    source.watchFailures = [connectionRefused(), connectionRefused(), new ApiError(503, 'ServiceUnavailable', 'apiserver is shutting down')];
    source.lastWatch().stream.fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await vi.waitFor(() => expect(source.watches).toHaveLength(2));
    expect(healthAtEachWatch.map((h) => h.consecutiveFailures)).toEqual([0, 1, 2, 3, 4]);
    expect(healthAtEachWatch.at(-1)).toMatchObject({ watching: false, synced: true, lastError: 'apiserver is shutting down' });
    expect(healthAtEachWatch[1]!.lastError).toBe('ECONNRESET: aborted');
    expect(source.lastWatch().resourceVersion).toBe('120');
    expect(source.lists).toHaveLength(1);
    expect(informer.health()).toMatchObject({ watching: true, consecutiveFailures: 0, synced: true });
  });

  it('keeps retrying the initial list until it succeeds', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = [obj('a', '1')];
    source.listFailures = [connectionRefused(), new ApiError(500, 'InternalError', 'etcd'), connectionRefused()];
    const informer = makeInformer(source);
    informer.start();
    await informer.waitForSync();
    expect(source.lists).toHaveLength(4);
    expect(informer.get('ns/a')).toBeDefined();
  });

  it('backs off exponentially with jitter between failed attempts, up to the maximum', async () => {
    vi.useFakeTimers();
    try {
      const source = new FakeListWatch<Obj>();
      source.listFailures = Array.from({ length: 8 }, connectionRefused);
      const attempts: number[] = [];
      const realList = source.list.bind(source);
      source.list = (options) => {
        attempts.push(Date.now());
        return realList(options);
      };
      const informer = makeInformer(source, { backoff: { initialMs: 100, maxMs: 1_000 } });
      informer.start();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(informer.hasSynced()).toBe(true);
      const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
      const nominal = [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000];
      expect(gaps).toHaveLength(nominal.length);
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(Math.floor(nominal[i]! * 0.75));
        expect(gap).toBeLessThanOrEqual(Math.min(1_000, Math.ceil(nominal[i]! * 1.25)) + 1);
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('lists again without pagination when the continue token expires mid-list', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = Array.from({ length: 4 }, (_, i) => obj(`cm${i}`, String(i + 1)));
    const informer = makeInformer(source, { pageSize: 2 });
    const realList = source.list.bind(source);
    source.list = async (options) => {
      if (options.continueToken) {
        source.lists.push(options);
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old');
      }
      return realList(options);
    };
    informer.start();
    await informer.waitForSync();
    expect(source.lists.map((call) => call.limit)).toEqual([2, 2, 0]);
    expect(informer.list()).toHaveLength(4);
  });

  it('announces each page of the first list as it stores it, before asking for the next page', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = Array.from({ length: 5 }, (_, i) => obj(`cm${i}`, String(i + 1)));
    const informer = makeInformer(source, { pageSize: 2, packed: true });
    const seen = recordHandlers(informer);
    const found: (string | undefined)[] = [];
    informer.onAdd((o) => found.push(informer.get(`ns/${o.metadata.name}`)?.metadata.resourceVersion));
    const addsAtEachList: number[] = [];
    const realList = source.list.bind(source);
    source.list = async (options) => {
      addsAtEachList.push(seen.length);
      return realList(options);
    };
    informer.start();
    await informer.waitForSync();
    expect(addsAtEachList).toEqual([0, 2, 4]);
    expect(seen).toEqual(['add cm0@1', 'add cm1@2', 'add cm2@3', 'add cm3@4', 'add cm4@5']);
    // A handler told of an object finds it in the cache already.
    expect(found).toEqual(['1', '2', '3', '4', '5']);
    expect(informer.hasSynced()).toBe(true);
  });

  it('a handler registered while the first list is under way hears of every object once', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = Array.from({ length: 4 }, (_, i) => obj(`cm${i}`, String(i + 1)));
    const informer = makeInformer(source, { pageSize: 2 });
    let late: string[] = [];
    const realList = source.list.bind(source);
    source.list = async (options) => {
      if (options.continueToken) late = recordHandlers(informer);
      return realList(options);
    };
    informer.start();
    await informer.waitForSync();
    expect(late).toEqual(['add cm0@1', 'add cm1@2', 'add cm2@3', 'add cm3@4']);
  });

  it('compares a full list with what the first pages announced when the continue token expires: no object is announced twice', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = Array.from({ length: 4 }, (_, i) => obj(`cm${i}`, String(i + 1)));
    const informer = makeInformer(source, { pageSize: 2 });
    const seen = recordHandlers(informer);
    const realList = source.list.bind(source);
    source.list = async (options) => {
      if (options.continueToken) {
        source.lists.push(options);
        // Meanwhile cm0 changed and cm1 went, which the server's history no longer covers.
        source.objects = [obj('cm0', '7'), obj('cm2', '3'), obj('cm3', '4')];
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old');
      }
      return realList(options);
    };
    informer.start();
    await informer.waitForSync();
    expect(source.lists.map((call) => call.limit)).toEqual([2, 2, 0]);
    expect(seen).toEqual(['add cm0@1', 'add cm1@2', 'update cm0@1->7', 'add cm2@3', 'add cm3@4', 'delete cm1@2 (final state unknown)']);
    expect(cachedNames(informer)).toEqual(['cm0', 'cm2', 'cm3']);
  });

  it("tells onAdd whether the object came with the first list (client-go's isInInitialList): not a watch event's or a later relist's", async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = Array.from({ length: 3 }, (_, i) => obj(`cm${i}`, String(i + 1)));
    const informer = makeInformer(source, { pageSize: 2 });
    const adds: string[] = [];
    const noteAdds = (who: string) => informer.onAdd((o, { initialList }) => adds.push(`${who} ${o.metadata.name} ${initialList ? 'initial' : 'change'}`));
    noteAdds('early');
    const realList = source.list.bind(source);
    source.list = async (options) => {
      // The first list's token expires once: the full list that follows still belongs to the first list.
      if (options.continueToken && source.lists.length === 1) {
        source.lists.push(options);
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old');
      }
      return realList(options);
    };
    informer.start();
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    noteAdds('late');
    source.lastWatch().stream.push('ADDED', obj('watched', '101'));
    await vi.waitFor(() => expect(adds).toContain('early watched change'));
    source.objects = [...source.objects, obj('relisted', '201')];
    source.lastWatch().stream.push('ERROR', expiredEvent);
    await vi.waitFor(() => expect(adds.filter((line) => line.includes('relisted'))).toHaveLength(2));
    expect(adds).toEqual([
      'early cm0 initial',
      'early cm1 initial',
      'early cm2 initial',
      'late cm0 initial',
      'late cm1 initial',
      'late cm2 initial',
      'early watched change',
      'late watched change',
      'early relisted change',
      'late relisted change',
    ]);
  });

  it('survives a handler that throws or rejects', async () => {
    const source = new FakeListWatch<Obj>();
    const logger = recordingLogger();
    const informer = makeInformer(source, { logger });
    informer.onAdd(() => {
      throw new Error('handler bug');
    });
    informer.onAdd(async () => {
      throw new Error('async handler bug');
    });
    const seen = recordHandlers(informer);
    informer.start();
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    source.lastWatch().stream.push('ADDED', obj('a', '101'));
    source.lastWatch().stream.push('ADDED', obj('b', '102'));
    await vi.waitFor(() => expect(seen).toEqual(['add a@101', 'add b@102']));
    await vi.waitFor(() => expect(logger.lines.filter((line) => line.level === 'error' && line.message === 'informer event handler failed')).toHaveLength(4));
    expect(informer.health().watching).toBe(true);
  });

  it('replays the stored objects as adds to a handler registered after the sync', async () => {
    const source = new FakeListWatch<Obj>();
    source.objects = [obj('a', '1'), obj('b', '2')];
    const informer = makeInformer(source);
    informer.start();
    await informer.waitForSync();
    const seen = recordHandlers(informer);
    expect(seen).toEqual(['add a@1', 'add b@2']);
  });

  it('rejects waitForSync when its signal aborts, and stop() ends the loop for good', async () => {
    const source = new FakeListWatch<Obj>();
    source.listFailures = Array.from({ length: 1_000 }, connectionRefused);
    const informer = makeInformer(source);
    informer.start();
    await expect(informer.waitForSync(AbortSignal.timeout(30))).rejects.toThrow();
    await informer.stop();
    const calls = source.lists.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(source.lists).toHaveLength(calls);
    expect(informer.hasSynced()).toBe(false);
  });

  it('draws the watch timeout from the configured range', async () => {
    const source = new FakeListWatch<Obj>();
    const informer = makeInformer(source, { watchTimeoutSeconds: { min: 300, max: 600 } });
    informer.start();
    for (let i = 1; i <= 20; i++) {
      await vi.waitFor(() => expect(source.watches).toHaveLength(i));
      source.lastWatch().stream.push('BOOKMARK', { metadata: { resourceVersion: String(200 + i) } });
      source.lastWatch().stream.end();
    }
    const timeouts = source.watches.map((w) => w.timeoutSeconds);
    expect(Math.min(...timeouts)).toBeGreaterThanOrEqual(300);
    expect(Math.max(...timeouts)).toBeLessThanOrEqual(600);
    expect(new Set(timeouts).size).toBeGreaterThan(1);
  });

  it('recognises 410 in its forms', () => {
    expect(isResourceExpired(new ApiError(410, undefined, 'Gone'))).toBe(true);
    expect(isResourceExpired(new ApiError(500, 'Expired', 'x'))).toBe(true);
    expect(isResourceExpired(new ApiError(0, undefined, 'too old resource version: 1 (2)'))).toBe(true);
    expect(isResourceExpired(new ApiError(500, 'InternalError', 'etcd'))).toBe(false);
    expect(isResourceExpired(new Error('too old resource version'))).toBe(false);
  });
});

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Informer, type ListWatchSource, type WatchEvent } from '../../../src/runtime/informer.ts';
import { loopbackKube, startLoopbackHttp } from '../../support/loopback-http.ts';

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion: string };
}
const obj = (name: string, resourceVersion: string): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion } });

/** A watch that delivers what it is given and then says nothing, like a connection gone half-open. */
class SilentWatchSource implements ListWatchSource {
  readonly lists: number[] = [];
  readonly watches: { resourceVersion: string; signal: AbortSignal; push: (event: WatchEvent) => void }[] = [];
  /** When false the stream ignores its abort signal, as a stuck socket read would. */
  honoursAbort = true;

  async list(): Promise<{ items: unknown[]; resourceVersion: string }> {
    this.lists.push(Date.now());
    return { items: [obj('a', '100')], resourceVersion: '100' };
  }

  async watch(options: { resourceVersion: string }, signal: AbortSignal): Promise<AsyncIterable<WatchEvent>> {
    const queued: WatchEvent[] = [];
    let wake: (() => void) | undefined;
    const honoursAbort = this.honoursAbort;
    this.watches.push({ resourceVersion: options.resourceVersion, signal, push: (event) => (queued.push(event), wake?.()) });
    return {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const event = queued.shift();
          if (event) {
            yield event;
            continue;
          }
          if (honoursAbort && signal.aborted) throw signal.reason;
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (honoursAbort) signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
      },
    };
  }
}

const informers: Informer<Obj>[] = [];
afterEach(async () => {
  await Promise.all(informers.splice(0).map((informer) => informer.stop()));
});

function start(source: ListWatchSource, watchIdleTimeoutMs: number): Informer<Obj> {
  const informer = new Informer<Obj>({ source, watchIdleTimeoutMs, backoff: { initialMs: 1, maxMs: 5 } });
  informers.push(informer);
  informer.start();
  return informer;
}

describe('Informer: a silent watch is restarted', () => {
  it('aborts a watch that brings nothing for the idle timeout and watches again from the last resourceVersion, without relisting', async () => {
    const source = new SilentWatchSource();
    const informer = start(source, 150);
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    source.watches[0]!.push({ type: 'MODIFIED', object: obj('a', '120') });
    await vi.waitFor(() => expect(informer.get('ns/a')?.metadata.resourceVersion).toBe('120'));
    expect(source.watches[0]!.signal.aborted).toBe(false);
    await vi.waitFor(() => expect(source.watches).toHaveLength(2), { timeout: 2_000 });
    expect(source.watches[0]!.signal.aborted).toBe(true);
    expect(source.watches[1]!.resourceVersion).toBe('120');
    expect(source.lists).toHaveLength(1);
    expect(informer.health().consecutiveFailures).toBe(0);
  });

  it('also leaves a stream that ignores its abort signal', async () => {
    const source = new SilentWatchSource();
    source.honoursAbort = false;
    start(source, 100);
    await vi.waitFor(() => expect(source.watches.length).toBeGreaterThanOrEqual(2), { timeout: 2_000 });
    expect(source.watches[1]!.resourceVersion).toBe('100');
  });

  it('keeps a watch that receives bookmarks, each of which moves the resourceVersion', async () => {
    const source = new SilentWatchSource();
    start(source, 150);
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    for (let i = 1; i <= 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      source.watches[0]!.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(100 + i) } } });
    }
    expect(source.watches).toHaveLength(1);
    await vi.waitFor(() => expect(source.watches).toHaveLength(2), { timeout: 2_000 });
    expect(source.watches[1]!.resourceVersion).toBe('108');
  });
});

describe('Informer: a long watch does not keep its past events', () => {
  it('lets events already applied be collected while the same watch goes on', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const source = new SilentWatchSource();
    const informer = start(source, 60_000);
    await vi.waitFor(() => expect(source.watches).toHaveLength(1));
    const delivered: WeakRef<WatchEvent>[] = [];
    for (let i = 1; i <= 200; i++) {
      const event: WatchEvent = { type: 'MODIFIED', object: obj('a', String(100 + i)) };
      delivered.push(new WeakRef(event));
      source.watches[0]!.push(event);
    }
    await vi.waitFor(() => expect(informer.get('ns/a')?.metadata.resourceVersion).toBe('300'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    // The store holds the last object; every earlier event is garbage unless the watch loop still reaches it.
    expect(delivered.slice(0, 190).filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    expect(source.watches).toHaveLength(1);
  });
});

describe('Informer over HTTP: a half-open watch connection', () => {
  it('asks for bookmarks, drops a connection that went silent and watches again from the last resourceVersion', async () => {
    const requests: URL[] = [];
    const closed: string[] = [];
    const server = await startLoopbackHttp((request, response) => {
      const url = new URL(request.url!, 'http://localhost');
      requests.push(url);
      response.writeHead(200, { 'content-type': 'application/json' });
      if (url.searchParams.get('watch') !== '1') {
        response.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [obj('a', '10')] }));
        return;
      }
      const resourceVersion = url.searchParams.get('resourceVersion')!;
      request.socket.once('close', () => closed.push(resourceVersion));
      // One event, then nothing: the connection stays open but silent, as a half-open one would.
      response.write(`${JSON.stringify({ type: 'MODIFIED', object: obj('a', String(Number(resourceVersion) + 5)) })}\n`);
    });
    const informer = new Informer<Obj>({ kc: loopbackKube(server.url), path: '/api/v1/namespaces/ns/configmaps', watchIdleTimeoutMs: 200 });
    informers.push(informer);
    try {
      informer.start();
      await vi.waitFor(() => expect(requests.filter((url) => url.searchParams.get('watch') === '1').length).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
      const watches = requests.filter((url) => url.searchParams.get('watch') === '1');
      expect(watches.map((url) => url.searchParams.get('resourceVersion')).slice(0, 3)).toEqual(['10', '15', '20']);
      expect(watches.every((url) => url.searchParams.get('allowWatchBookmarks') === 'true')).toBe(true);
      expect(requests.filter((url) => url.searchParams.get('watch') !== '1')).toHaveLength(1);
      await vi.waitFor(() => expect(closed).toEqual(expect.arrayContaining(['10', '15'])));
    } finally {
      await informer.stop();
      await server.close();
    }
  });
});

import { createServer, connect, type Server, type Socket } from 'node:net';
import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Informer, kubeListWatch, type InformerHealth } from '../../src/runtime/informer.ts';
import type { Logger } from '../../src/runtime/logger.ts';
import { startControlPlane, type ControlPlane } from '../../harness/stack/control-plane.ts';

/**
 * The informer against a real etcd + kube-apiserver: pagination, events with the old object,
 * an API server restart, and a real 410 (a watch from a resourceVersion older than the
 * restarted server's watch cache) answered by a relist that reports the deletes it missed.
 */
describe('Informer against a real kube-apiserver', () => {
  let plane: ControlPlane;
  let kc: KubeConfig;
  let core: CoreV1Api;
  const informers: Informer<V1ConfigMap>[] = [];

  beforeAll(async () => {
    plane = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await Promise.all(informers.map((informer) => informer.stop()));
    await plane?.stop();
  });

  async function namespaceWith(namespace: string, count: number, prefix = 'cm'): Promise<void> {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (let i = 0; i < count; i++) await create(namespace, `${prefix}${i}`, { v: '1' });
  }
  const create = (namespace: string, name: string, data: Record<string, string>) =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });
  const update = (namespace: string, name: string, data: Record<string, string>) =>
    core.replaceNamespacedConfigMap({ namespace, name, body: { metadata: { name, namespace }, data } });
  const remove = (namespace: string, name: string) => core.deleteNamespacedConfigMap({ namespace, name });

  /** name -> resourceVersion, as the server has it now and as the informer's store has it. */
  async function serverState(namespace: string): Promise<Record<string, string>> {
    const list = await core.listNamespacedConfigMap({ namespace });
    return Object.fromEntries(list.items.map((item) => [item.metadata!.name!, item.metadata!.resourceVersion!]));
  }
  const storeState = (informer: Informer<V1ConfigMap>) =>
    Object.fromEntries(informer.list().map((item) => [item.metadata!.name!, item.metadata!.resourceVersion!]));

  function track(informer: Informer<V1ConfigMap>) {
    const events: string[] = [];
    const updates: { name: string; oldData: unknown; newData: unknown }[] = [];
    const deleted = new Map<string, V1ConfigMap>();
    informer.onAdd((o) => void events.push(`add ${o.metadata!.name}`));
    informer.onUpdate((n, o) => {
      events.push(`update ${n.metadata!.name}`);
      updates.push({ name: n.metadata!.name!, oldData: o.data, newData: n.data });
    });
    informer.onDelete((o) => {
      events.push(`delete ${o.metadata!.name}`);
      deleted.set(o.metadata!.name!, o);
    });
    return { events, updates, deleted };
  }

  function newInformer(options: ConstructorParameters<typeof Informer<V1ConfigMap>>[0]): Informer<V1ConfigMap> {
    const informer = new Informer<V1ConfigMap>(options);
    informers.push(informer);
    informer.start();
    return informer;
  }

  it('lists in pages, drops managedFields, and delivers add/update/delete with the old object', async () => {
    const namespace = 'paging';
    await namespaceWith(namespace, 12);
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const real = kubeListWatch(kc, path);
    const pages: { limit: number; continueToken?: string; items: number }[] = [];
    const informer = newInformer({
      pageSize: 5,
      source: {
        list: async (options, signal) => {
          const page = await real.list(options, signal);
          pages.push({ ...options, items: page.items.length });
          return page;
        },
        watch: real.watch,
      },
    });
    const { events, updates, deleted } = track(informer);
    await informer.waitForSync(AbortSignal.timeout(30_000));

    expect(pages.map((p) => [p.limit, p.items, p.continueToken === undefined])).toEqual([
      [5, 5, true],
      [5, 5, false],
      [5, 2, false],
    ]);
    expect(informer.list()).toHaveLength(12);
    expect(informer.get(`${namespace}/cm3`)?.data).toEqual({ v: '1' });
    expect(informer.get(`${namespace}/cm3`)).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(informer.list().every((o) => o.metadata!.managedFields === undefined)).toBe(true);
    expect(events.filter((e) => e.startsWith('add'))).toHaveLength(12);

    await vi.waitFor(() => expect(informer.health().watching).toBe(true), { timeout: 10_000 });
    await update(namespace, 'cm0', { v: '2' });
    await remove(namespace, 'cm1');
    await create(namespace, 'fresh', { v: 'new' });
    await vi.waitFor(() => expect(events.slice(12)).toEqual(['update cm0', 'delete cm1', 'add fresh']), { timeout: 10_000 });
    expect(updates).toEqual([{ name: 'cm0', oldData: { v: '1' }, newData: { v: '2' } }]);
    expect(deleted.get('cm1')?.metadata?.namespace).toBe(namespace);
    expect(informer.get(`${namespace}/cm1`)).toBeUndefined();
    expect(informer.get(`${namespace}/fresh`)?.metadata?.managedFields).toBeUndefined();
    expect(storeState(informer)).toEqual(await serverState(namespace));
  });

  it('survives an API server restart and converges on the changes made around it', { timeout: 120_000 }, async () => {
    const namespace = 'restart';
    await namespaceWith(namespace, 6);
    const informer = newInformer({ kc, path: `/api/v1/namespaces/${namespace}/configmaps`, backoff: { initialMs: 200, maxMs: 2_000 } });
    const { deleted } = track(informer);
    await informer.waitForSync(AbortSignal.timeout(30_000));
    await vi.waitFor(() => expect(informer.health().watching).toBe(true), { timeout: 10_000 });

    await update(namespace, 'cm0', { v: 'before-restart' });
    await remove(namespace, 'cm1');
    await create(namespace, 'created-before', { v: '1' });

    const failing: InformerHealth[] = [];
    const watchHealth = setInterval(() => {
      const health = informer.health();
      if (health.consecutiveFailures > 0) failing.push(health);
    }, 20);
    try {
      await plane.restartApiserver();
      await update(namespace, 'cm2', { v: 'after-restart' });
      await remove(namespace, 'cm3');
      await create(namespace, 'created-after', { v: '1' });
      const expected = await serverState(namespace);
      await vi.waitFor(() => expect(storeState(informer)).toEqual(expected), { timeout: 60_000, interval: 100 });
    } finally {
      clearInterval(watchHealth);
    }
    expect([...deleted.keys()].sort()).toEqual(['cm1', 'cm3']);
    expect(informer.get(`${namespace}/cm0`)?.data).toEqual({ v: 'before-restart' });
    expect(informer.get(`${namespace}/cm2`)?.data).toEqual({ v: 'after-restart' });
    // Health showed the outage (failures, not watching, the error) and then the recovery.
    expect(failing.length).toBeGreaterThan(0);
    expect(failing.some((h) => !h.watching && h.lastError !== undefined)).toBe(true);
    await vi.waitFor(() => expect(informer.health()).toMatchObject({ synced: true, watching: true, consecutiveFailures: 0 }), { timeout: 30_000 });
  });

  it('relists after a real 410 Gone and reports the deletes it only saw through the relist', { timeout: 120_000 }, async () => {
    const namespace = 'expired';
    await namespaceWith(namespace, 5);
    const proxy = await startTcpProxy(Number(new URL(plane.server).port));
    try {
      const logger = recordingLogger();
      const informer = newInformer({
        kc: kubeConfigFor(kc, `https://127.0.0.1:${proxy.port}`),
        path: `/api/v1/namespaces/${namespace}/configmaps`,
        logger,
        backoff: { initialMs: 100, maxMs: 1_000 },
      });
      const { events, updates, deleted } = track(informer);
      await informer.waitForSync(AbortSignal.timeout(30_000));
      await vi.waitFor(() => expect(informer.health().watching).toBe(true), { timeout: 10_000 });
      const lastKnown = informer.get(`${namespace}/cm0`)!;

      // Cut the informer off, change things behind its back, and restart the API server: its
      // new watch cache starts after the informer's resourceVersion, so the next watch gets 410.
      proxy.cut();
      await vi.waitFor(() => expect(informer.health().consecutiveFailures).toBeGreaterThan(0), { timeout: 10_000 });
      await remove(namespace, 'cm0');
      await remove(namespace, 'cm1');
      await update(namespace, 'cm2', { v: 'changed-while-away' });
      await create(namespace, 'added-while-away', { v: '1' });
      await plane.restartApiserver();
      const expected = await serverState(namespace);
      proxy.restore();

      await vi.waitFor(() => expect(storeState(informer)).toEqual(expected), { timeout: 60_000, interval: 100 });
      const expiredLog = logger.lines.find((line) => line.message === 'resource version expired (410); relisting');
      expect(expiredLog?.fields.message).toMatch(/too old resource version/);
      expect(events.slice(5).sort()).toEqual(['add added-while-away', 'delete cm0', 'delete cm1', 'update cm2']);
      // The relist cannot know the final state of a deleted object: the handler gets the last one it knew.
      expect(deleted.get('cm0')).toEqual(lastKnown);
      expect(updates).toEqual([{ name: 'cm2', oldData: { v: '1' }, newData: { v: 'changed-while-away' } }]);
      await vi.waitFor(() => expect(informer.health()).toMatchObject({ watching: true, consecutiveFailures: 0 }), { timeout: 30_000 });
    } finally {
      await proxy.close();
    }
  });
});

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message?: string;
}

function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const at =
    (level: string) =>
    (first: object | string, message?: string): void => {
      lines.push(typeof first === 'string' ? { level, fields: {}, message: first } : { level, fields: { ...first }, message });
    };
  const logger = { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => logger };
  return logger;
}

/** The same credentials and CA, pointed at another address (the proxy). */
function kubeConfigFor(source: KubeConfig, server: string): KubeConfig {
  const cluster = source.getCurrentCluster()!;
  const copy = new KubeConfig();
  copy.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: source.getUsers(),
    contexts: source.getContexts(),
    currentContext: source.getCurrentContext(),
  });
  return copy;
}

/** A TCP forwarder that can simulate a network partition: cut() drops every connection and refuses new ones. */
async function startTcpProxy(targetPort: number): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    cut: () => {
      open = false;
      dropAll();
    },
    restore: () => (open = true),
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../harness/stack/control-plane.ts';
import { kubectl } from '../../harness/stack/kubectl.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { processAlive } from '../support/processes.ts';

const group = 'stack.example.test';
const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: 'Cluster',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

describe('local control plane (real etcd + kube-apiserver)', () => {
  let plane: ControlPlane;
  let api: CustomObjectsApi;
  let kc: KubeConfig;

  beforeAll(async () => {
    plane = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    api = kc.makeApiClient(CustomObjectsApi);
  });
  afterAll(async () => plane?.stop());

  it('answers kubectl with the admin kubeconfig', async () => {
    const { stdout } = await kubectl(plane.kubeconfig, ['get', 'ns', '-o', 'name']);
    expect(stdout.split('\n')).toContain('namespace/default');
    const { stdout: version } = await kubectl(plane.kubeconfig, ['version', '-o', 'json']);
    const versions = JSON.parse(version) as Record<'clientVersion' | 'serverVersion', { gitVersion: string; minor: string }>;
    expect(versions.serverVersion.minor).toBe('34');
    // The kubectl built from tools/kubectl carries the apiserver's own version (stamped like upstream's build).
    if (!process.env.KUBECTL) expect(versions.clientVersion.gitVersion).toBe(versions.serverVersion.gitVersion);
  });

  it('applies a CRD with kubectl and serves create/get/status/delete and watch through client-node', async () => {
    await kubectl(plane.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(crd) });
    await kubectl(plane.kubeconfig, ['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=30s']);

    const events: string[] = [];
    const watch = new Watch(kc);
    const params = { group, version: 'v1', plural: 'widgets' };
    // Watch from a listed resourceVersion: exactly the changes after it, however late the stream opens.
    // Right after Established the new resource's watch cache may still answer 429 "storage is (re)initializing".
    const listed = await waitFor429(() => api.listClusterCustomObject(params) as Promise<{ metadata: { resourceVersion: string } }>);
    const request = await watch.watch(
      `/apis/${group}/v1/widgets`,
      { resourceVersion: listed.metadata.resourceVersion },
      (type, object: { metadata: { name: string } }) => events.push(`${type} ${object.metadata.name}`),
      (error?: unknown) => {
        if (error) events.push(`ERROR ${String(error)}`);
      },
    );
    try {
      await api.createClusterCustomObject({ ...params, body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } } });
      const got = (await api.getClusterCustomObject({ ...params, name: 'w1' })) as { spec: { size: number }; metadata: { resourceVersion: string } };
      expect(got.spec.size).toBe(3);

      const updated = (await api.replaceClusterCustomObjectStatus({
        ...params,
        name: 'w1',
        body: { ...got, status: { phase: 'Done' } },
      })) as { status: { phase: string } };
      expect(updated.status.phase).toBe('Done');
      const reread = (await api.getClusterCustomObject({ ...params, name: 'w1' })) as { status: { phase: string } };
      expect(reread.status.phase).toBe('Done');

      await api.deleteClusterCustomObject({ ...params, name: 'w1' });
      await expect(api.getClusterCustomObject({ ...params, name: 'w1' })).rejects.toMatchObject({ code: 404 });

      await waitUntil('the watch to deliver DELETED w1', () => events.includes('DELETED w1'), { timeoutMs: 30_000, intervalMs: 50 });
      expect(events).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    } finally {
      request.abort();
    }
  });

  it('stops cleanly, leaving no process behind', async () => {
    const other = await startControlPlane();
    const pids = [other.etcd.pid, other.apiserver.pid];
    expect(pids.every(processAlive)).toBe(true);
    await other.stop();
    expect(pids.filter(processAlive)).toEqual([]);
  });
});

async function waitFor429<T>(call: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if ((error as { code?: number }).code !== 429 || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

import { join } from 'node:path';
import { PROJECT_ROOT } from '../harness/stack/go-binaries.ts';
import type { Context } from './context.ts';

const NAMESPACE = 'bench-refresh';
const VIEWER_ROLE = 'ses-operator-channel-viewer';
/** Any UUID: setups are shared platform-wide, the workspace only has to be well formed. */
export const WORKSPACE = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

/** A token of a ServiceAccount bound to the shipped Channel.view ClusterRole, as the API's clients carry. */
export async function viewerToken(ctx: Context): Promise<string> {
  await ctx.kube.ensureNamespace(NAMESPACE);
  await ctx.kube.kubectl(['apply', '-f', join(PROJECT_ROOT, 'deploy/kustomize/base/channel-clusterroles.yaml')]);
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `${NAMESPACE}-viewer` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: VIEWER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace: NAMESPACE }],
  };
  const account = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'viewer', namespace: NAMESPACE } };
  await ctx.kube.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [account, binding] }));
  return (await ctx.kube.kubectl(['create', 'token', 'viewer', '-n', NAMESPACE, '--duration=1h'])).stdout.trim();
}

/** GET one path of the Channels REST API with a bearer token: the status and the parsed answer. */
export async function getChannels<T>(apiUrl: string, token: string, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${apiUrl}/v1/${WORKSPACE}/channels/ses-setup${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T };
}

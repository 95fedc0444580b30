import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { GO_TOOLS, PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { kubectl } from '../../harness/stack/kubectl.ts';
import { ensurePrerequisites } from '../../harness/stack/prerequisites.ts';
import { writeServiceAccountKubeconfig } from '../../harness/stack/service-account.ts';
import { startLocalStack, type StackEndpoints } from '../../harness/stack/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints & {
      /** The operator's identity in every e2e test: the shipped ServiceAccount and RBAC, not the admin. */
      operatorKubeconfig: string;
      /** The control plane's etcd, for tests that change storage under kube-apiserver. */
      etcdUrl: string;
    };
  }
}

const BASE = join(PROJECT_ROOT, 'deploy/kustomize/base');

/** Starts the shared local stack once for the whole run and stops it (and its processes) at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  // Every tool any test needs, checked before the first build: one message, not a failure per test.
  await ensurePrerequisites({ goTools: GO_TOOLS.filter((tool) => tool !== 'kubectl' || !process.env.KUBECTL), log });
  const stack = await startLocalStack({ log });
  try {
    const { kubeconfig, sesEndpoint, dnsServer, region } = stack;
    const operatorKubeconfig = await installOperatorIdentity(kubeconfig, join(stack.dir, 'operator.kubeconfig'));
    project.provide('stack', { kubeconfig, sesEndpoint, dnsServer, region, operatorKubeconfig, etcdUrl: stack.controlPlane.etcdUrl });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return () => stack.stop();
}

/**
 * The deploy/ ServiceAccount, ClusterRole and Lease Role, applied for real, and a token for them:
 * every end-to-end scenario then proves the shipped role is sufficient. ConfigMaps are granted on
 * top, as the Helm chart does for a configured referrer kind (the referrer tests use ConfigMaps).
 */
async function installOperatorIdentity(admin: string, path: string): Promise<string> {
  await kubectl(admin, ['apply', '-f', join(BASE, 'namespace.yaml')]);
  await kubectl(admin, [
    'apply',
    '-n',
    'ses-operator',
    '-f',
    join(BASE, 'serviceaccount.yaml'),
    '-f',
    join(BASE, 'clusterrole.yaml'),
    '-f',
    join(BASE, 'leader-election-role.yaml'),
  ]);
  const referrerRole = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'ses-operator-test-referrers' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'ses-operator-test-referrers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ses-operator-test-referrers' },
        subjects: [{ kind: 'ServiceAccount', name: 'ses-operator', namespace: 'ses-operator' }],
      },
    ],
  };
  await kubectl(admin, ['apply', '-f', '-'], { input: JSON.stringify(referrerRole) });
  return writeServiceAccountKubeconfig(admin, { namespace: 'ses-operator', name: 'ses-operator' }, path);
}

import { writeFile, readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { kubectl } from './kubectl.ts';

/**
 * Writes a kubeconfig for the same API server that authenticates only with a ServiceAccount's
 * token (TokenRequest), so a process runs with exactly that account's RBAC, as it would in a pod.
 */
export async function writeServiceAccountKubeconfig(
  adminKubeconfig: string,
  account: { namespace: string; name: string },
  path: string,
  duration = '24h',
): Promise<string> {
  const { stdout: token } = await kubectl(adminKubeconfig, ['create', 'token', account.name, '-n', account.namespace, `--duration=${duration}`]);
  const admin = parse(await readFile(adminKubeconfig, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
  await writeFile(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'service-account',
      clusters: [{ name: 'local', cluster: admin.clusters[0]!.cluster }],
      users: [{ name: account.name, user: { token: token.trim() } }],
      contexts: [{ name: 'service-account', context: { cluster: 'local', user: account.name } }],
    }),
    { mode: 0o600 },
  );
  return path;
}

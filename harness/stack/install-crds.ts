import { join } from 'node:path';
import { PROJECT_ROOT } from './go-binaries.ts';
import { kubectl } from './kubectl.ts';

/** Applies crds/ (server-side, so repeated installs are no-ops) and waits until both kinds are served. */
export async function installCrds(kubeconfig: string): Promise<void> {
  await kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', join(PROJECT_ROOT, 'crds')]);
  await kubectl(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/sessetups.ses.channels.dev', 'crd/emailusecases.ses.channels.dev']);
}

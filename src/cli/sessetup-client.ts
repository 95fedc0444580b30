import { GROUP, SES_SETUP, VERSION } from '../api/group.ts';
import { ResourceClient } from '../runtime/resource-client.ts';
import { loadKubeConfig } from './kubeconfig.ts';

/** SesSetups through --kubeconfig, else $KUBECONFIG, else the default kubeconfig: what kubectl would use. */
export async function sesSetupClient(kubeconfig: string | undefined): Promise<ResourceClient> {
  return new ResourceClient(await loadKubeConfig(kubeconfig ?? process.env.KUBECONFIG), { group: GROUP, version: VERSION, plural: SES_SETUP.plural });
}

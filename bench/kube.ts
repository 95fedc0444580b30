import { installCrds } from '../src/stack/install-crds.ts';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, SES_SETUP, VERSION } from '../src/api/group.ts';
import type { SesSetup } from '../src/api/sessetup.ts';
import { kubectl } from '../src/stack/kubectl.ts';

const REF = { group: GROUP, version: VERSION, plural: SES_SETUP.plural };

export interface SetupSpec {
  tenantName: string;
  domainIdentity: string;
}

/** The harness's own API access: what `kubectl apply` / `delete` of many SesSetups does, without kubectl's start-up cost. */
export class Kube {
  readonly kubeconfig: string;
  readonly kc: KubeConfig;
  readonly #api: CustomObjectsApi;

  constructor(kubeconfig: string) {
    this.kubeconfig = kubeconfig;
    this.kc = new KubeConfig();
    this.kc.loadFromFile(kubeconfig);
    this.#api = this.kc.makeApiClient(CustomObjectsApi);
  }

  installCrds(): Promise<void> {
    return installCrds(this.kubeconfig);
  }

  async create(name: string, spec: SetupSpec): Promise<SesSetup> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: SES_SETUP.kind, metadata: { name }, spec };
    return (await this.#api.createClusterCustomObject({ ...REF, body })) as SesSetup;
  }

  /** Deletes; a setup already gone counts as deleted. */
  async delete(name: string): Promise<void> {
    await this.#api.deleteClusterCustomObject({ ...REF, name }).catch((error: { code?: number }) => {
      if (error.code !== 404) throw error;
    });
  }

  /** Drops every finalizer (cleanup of objects no operator will finalize). */
  async clearFinalizers(name: string): Promise<void> {
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await this.#api.patchClusterCustomObject({ ...REF, name, body: { metadata: { finalizers: null } } }, options).catch((error: { code?: number }) => {
      if (error.code !== 404) throw error;
    });
  }
}

/** Names and specs of one batch of setups; every domain sits under `.test`, which the local BIND serves. */
export function setupBatch(prefix: string, count: number): { name: string; spec: SetupSpec }[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${String(i).padStart(5, '0')}`;
    return { name: id, spec: { tenantName: id.replace(/-/g, '_'), domainIdentity: `mail.${id}.bench.test` } };
  });
}

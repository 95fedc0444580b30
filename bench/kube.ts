import { KubeConfig } from '@kubernetes/client-node';
import { GROUP, SES_SETUP, VERSION } from '../src/api/group.ts';
import type { SesSetup } from '../src/api/sessetup.ts';
import { ApiError, objectPath, requestJson } from '../src/runtime/kube-http.ts';
import { installCrds } from '../harness/stack/install-crds.ts';

const REF = { group: GROUP, version: VERSION, plural: SES_SETUP.plural };

export interface SetupSpec {
  tenantName: string;
  domainIdentity: string;
}

/**
 * The harness's own API access: what `kubectl apply` / `delete` of many SesSetups does, without
 * kubectl's start-up cost, over the operator's keep-alive client (client-node's generated clients
 * open a TLS connection per call, which would load the API server the operator is measured against).
 */
export class Kube {
  readonly kubeconfig: string;
  readonly kc: KubeConfig;

  constructor(kubeconfig: string) {
    this.kubeconfig = kubeconfig;
    this.kc = new KubeConfig();
    this.kc.loadFromFile(kubeconfig);
  }

  installCrds(): Promise<void> {
    return installCrds(this.kubeconfig);
  }

  create(name: string, spec: SetupSpec): Promise<SesSetup> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: SES_SETUP.kind, metadata: { name }, spec };
    return requestJson<SesSetup>(this.kc, 'POST', objectPath(REF), { body });
  }

  /** Deletes; a setup already gone counts as deleted. */
  async delete(name: string): Promise<void> {
    await requestJson(this.kc, 'DELETE', objectPath(REF, undefined, name)).catch(ignoreNotFound);
  }

  /** Drops every finalizer (cleanup of objects no operator will finalize). */
  async clearFinalizers(name: string): Promise<void> {
    const body = { metadata: { finalizers: null } };
    await requestJson(this.kc, 'PATCH', objectPath(REF, undefined, name), { body, contentType: 'application/merge-patch+json' }).catch(ignoreNotFound);
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof ApiError && error.code === 404)) throw error;
}

/** Names and specs of one batch of setups; every domain sits under `.test`, which the local BIND serves. */
export function setupBatch(prefix: string, count: number): { name: string; spec: SetupSpec }[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${String(i).padStart(5, '0')}`;
    return { name: id, spec: { tenantName: id.replace(/-/g, '_'), domainIdentity: `mail.${id}.bench.test` } };
  });
}

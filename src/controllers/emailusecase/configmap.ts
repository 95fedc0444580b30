import { API_VERSION, EMAIL_USE_CASE, GROUP } from '../../api/group.ts';
import type { EmailUseCase } from '../../api/emailusecase.ts';
import type { SesSetup } from '../../api/sessetup.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { ApiError, type KubeAccess, objectPath, requestJson, unlessNotFound } from '../../runtime/kube-http.ts';

/** The ConfigMap an app mounts (envFrom) to send through SES for its tenant: environment-variable keys. */
export type SendingConfig = Record<'AWS_REGION' | 'SES_TENANT_NAME' | 'SES_IDENTITY_ARN' | 'SES_FROM_ADDRESS' | 'SES_READY' | 'SES_SETUP', string>;

export interface ConfigMap {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  data?: Record<string, string>;
}

/** ConfigMap reads and writes (the real one goes to the API server; unit tests may keep them in memory). */
export interface ConfigMapStore {
  get(namespace: string, name: string): Promise<ConfigMap | undefined>;
  create(configMap: ConfigMap): Promise<ConfigMap>;
  update(configMap: ConfigMap): Promise<ConfigMap>;
}

export const USE_CASE_LABEL = `${GROUP}/emailusecase`;

export function configMapNameOf(useCase: EmailUseCase): string {
  return useCase.spec?.configMapName ?? `${useCase.metadata.name}-ses`;
}

export function sendingConfig(useCase: EmailUseCase, setup: SesSetup | undefined, ready: boolean, defaultRegion: string): SendingConfig {
  return {
    AWS_REGION: setup?.status?.region ?? setup?.spec.region ?? defaultRegion,
    SES_TENANT_NAME: setup?.spec.tenantName ?? '',
    SES_IDENTITY_ARN: setup?.status?.identity?.arn ?? '',
    SES_FROM_ADDRESS: useCase.spec?.fromAddress ?? '',
    SES_READY: String(ready),
    SES_SETUP: useCase.spec?.sesSetupRef?.name ?? '',
  };
}

/**
 * Creates or updates the use case's ConfigMap, writing only when its data differs, and never a
 * ConfigMap that the use case does not own (controller ownerReference with its UID): that one is
 * left as it is and the returned condition says so.
 */
export async function ensureConfigMap(store: ConfigMapStore, useCase: EmailUseCase, data: SendingConfig): Promise<ConditionInput> {
  const name = configMapNameOf(useCase);
  const namespace = useCase.metadata.namespace!;
  const type = 'ConfigMapReady';
  if (name.length > 253) {
    return { type, status: 'False', reason: 'ConfigMapNameTooLong', message: `${name} is longer than 253 characters: set spec.configMapName` };
  }
  const owner = { apiVersion: API_VERSION, kind: EMAIL_USE_CASE.kind, name: useCase.metadata.name, uid: useCase.metadata.uid!, controller: true };
  const done: ConditionInput = { type, status: 'True', reason: 'ConfigMapWritten', message: `ConfigMap ${namespace}/${name} holds the sending settings` };
  let existing = await store.get(namespace, name);
  if (!existing) {
    try {
      await store.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace, labels: { [USE_CASE_LABEL]: useCase.metadata.name }, ownerReferences: [owner] },
        data,
      });
      return done;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
      existing = await store.get(namespace, name); // created meanwhile: judge that one
      if (!existing) throw error;
    }
  }
  if (!existing.metadata.ownerReferences?.some((ref) => ref.uid === useCase.metadata.uid && ref.controller)) {
    return {
      type,
      status: 'False',
      reason: 'ConfigMapNotOwned',
      message: `ConfigMap ${namespace}/${name} exists and is not owned by this EmailUseCase: it is left untouched; delete it or set spec.configMapName to another name`,
    };
  }
  if (JSON.stringify(existing.data ?? {}) !== JSON.stringify(data)) await store.update({ ...existing, data });
  return done;
}

const CONFIG_MAPS = { group: '', version: 'v1', plural: 'configmaps' };

/** ConfigMaps through the API server (get, create, update: the operator's ClusterRole grants exactly these). */
export function kubeConfigMaps(kc: KubeAccess, onWrite: (verb: string) => void = () => {}): ConfigMapStore {
  return {
    get(namespace, name) {
      return unlessNotFound(requestJson<ConfigMap>(kc, 'GET', objectPath(CONFIG_MAPS, namespace, name)));
    },
    create(configMap) {
      onWrite('create');
      return requestJson<ConfigMap>(kc, 'POST', objectPath(CONFIG_MAPS, configMap.metadata.namespace), { body: configMap });
    },
    update(configMap) {
      onWrite('update');
      // resourceVersion travels with the object: a concurrent change makes this a 409 and the reconcile retries.
      return requestJson<ConfigMap>(kc, 'PUT', objectPath(CONFIG_MAPS, configMap.metadata.namespace, configMap.metadata.name), { body: configMap });
    },
  };
}

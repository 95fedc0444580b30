import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../api/meta.ts';
import { createMergePatch } from './merge-patch.ts';

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

/**
 * Writes to one custom resource kind with the content types the API server wants
 * (client-node defaults every patch to JSON patch; strategic merge is refused on CRs).
 */
export class ResourceClient {
  readonly #api: CustomObjectsApi;
  readonly #ref: ResourceRef;
  readonly #onWrite: (verb: string) => void;

  constructor(kc: KubeConfig, ref: ResourceRef, onWrite: (verb: string) => void = () => {}) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#ref = ref;
    this.#onWrite = onWrite;
  }

  /** Writes status through the /status subresource, only what changed; returns the stored object, or undefined when nothing changed. */
  async patchStatus<T extends KubeObject & { status?: unknown }>(object: T, status: unknown): Promise<T | undefined> {
    const patch = createMergePatch(object.status ?? {}, status);
    if (patch === undefined) return undefined;
    const { name, namespace } = object.metadata;
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const body = { status: patch };
    this.#onWrite('patch-status');
    if (namespace) return (await this.#api.patchNamespacedCustomObjectStatus({ ...this.#ref, namespace, name, body }, options)) as T;
    return (await this.#api.patchClusterCustomObjectStatus({ ...this.#ref, name, body }, options)) as T;
  }

  /** Appends a finalizer; the `test` op makes it fail (409/422) instead of clobbering a list that changed meanwhile. */
  async addFinalizer<T extends KubeObject>(object: T, finalizer: string): Promise<T> {
    const current = object.metadata.finalizers;
    if (current?.includes(finalizer)) return object;
    const patch = current
      ? [
          { op: 'test', path: '/metadata/finalizers', value: current },
          { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
        ]
      : [
          { op: 'test', path: '/metadata/resourceVersion', value: object.metadata.resourceVersion },
          { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
        ];
    return this.#jsonPatch(object, patch);
  }

  /** Removes only our own entry, by index guarded with `test`: other controllers' finalizers stay. */
  async removeFinalizer<T extends KubeObject>(object: T, finalizer: string): Promise<T> {
    const index = object.metadata.finalizers?.indexOf(finalizer) ?? -1;
    if (index < 0) return object;
    return this.#jsonPatch(object, [
      { op: 'test', path: `/metadata/finalizers/${index}`, value: finalizer },
      { op: 'remove', path: `/metadata/finalizers/${index}` },
    ]);
  }

  /** Merge-patches metadata.annotations (the verify command's request). */
  async patchAnnotations(name: string, namespace: string | undefined, annotations: Record<string, string | null>): Promise<void> {
    const body = { metadata: { annotations } };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    this.#onWrite('patch');
    if (namespace) await this.#api.patchNamespacedCustomObject({ ...this.#ref, namespace, name, body }, options);
    else await this.#api.patchClusterCustomObject({ ...this.#ref, name, body }, options);
  }

  async get<T>(name: string, namespace?: string): Promise<T> {
    if (namespace) return (await this.#api.getNamespacedCustomObject({ ...this.#ref, namespace, name })) as T;
    return (await this.#api.getClusterCustomObject({ ...this.#ref, name })) as T;
  }

  async #jsonPatch<T extends KubeObject>(object: T, body: object[]): Promise<T> {
    const { name, namespace } = object.metadata;
    const options = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    this.#onWrite('patch');
    if (namespace) return (await this.#api.patchNamespacedCustomObject({ ...this.#ref, namespace, name, body }, options)) as T;
    return (await this.#api.patchClusterCustomObject({ ...this.#ref, name, body }, options)) as T;
  }
}

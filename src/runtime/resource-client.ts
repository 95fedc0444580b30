import type { KubeObject } from '../api/meta.ts';
import { type KubeAccess, objectPath, requestJson, unlessNotFound } from './kube-http.ts';
import { createMergePatch } from './merge-patch.ts';

const MERGE_PATCH = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

/**
 * Writes to one custom resource kind with the content types the API server wants (strategic
 * merge is refused on CRs), over the shared keep-alive connections of kube-http.ts.
 */
export class ResourceClient {
  readonly #kc: KubeAccess;
  readonly #ref: ResourceRef;
  readonly #onWrite: (verb: string) => void;

  constructor(kc: KubeAccess, ref: ResourceRef, onWrite: (verb: string) => void = () => {}) {
    this.#kc = kc;
    this.#ref = ref;
    this.#onWrite = onWrite;
  }

  /** Writes status through the /status subresource, only what changed; returns the stored object, or undefined when nothing changed. */
  async patchStatus<T extends KubeObject & { status?: unknown }>(object: T, status: unknown): Promise<T | undefined> {
    const patch = createMergePatch(object.status ?? {}, status);
    if (patch === undefined) return undefined;
    const { name, namespace } = object.metadata;
    this.#onWrite('patch-status');
    return requestJson<T>(this.#kc, 'PATCH', objectPath(this.#ref, namespace, name, 'status'), { body: { status: patch }, contentType: MERGE_PATCH });
  }

  /** The object as stored now (a read from etcd, not a cache), or undefined when it is gone. */
  async read<T extends KubeObject>(object: T): Promise<T | undefined> {
    const { name, namespace } = object.metadata;
    return unlessNotFound(requestJson<T>(this.#kc, 'GET', objectPath(this.#ref, namespace, name)));
  }

  /**
   * Appends a finalizer, and sets `annotations` in the same write; the `test` op makes it fail
   * (409/422) instead of clobbering a list that changed meanwhile.
   */
  async addFinalizer<T extends KubeObject>(object: T, finalizer: string, annotations: Record<string, string> = {}): Promise<T> {
    const current = object.metadata.finalizers;
    if (current?.includes(finalizer)) return object;
    const patch: object[] = current
      ? [
          { op: 'test', path: '/metadata/finalizers', value: current },
          { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
        ]
      : [
          { op: 'test', path: '/metadata/resourceVersion', value: object.metadata.resourceVersion },
          { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
        ];
    if (Object.keys(annotations).length > 0) {
      if (object.metadata.annotations) {
        for (const [key, value] of Object.entries(annotations)) patch.push({ op: 'add', path: `/metadata/annotations/${pointerToken(key)}`, value });
      } else {
        patch.push({ op: 'add', path: '/metadata/annotations', value: annotations });
      }
    }
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
    this.#onWrite('patch');
    await requestJson(this.#kc, 'PATCH', objectPath(this.#ref, namespace, name), { body: { metadata: { annotations } }, contentType: MERGE_PATCH });
  }

  get<T>(name: string, namespace?: string): Promise<T> {
    return requestJson<T>(this.#kc, 'GET', objectPath(this.#ref, namespace, name));
  }

  #jsonPatch<T extends KubeObject>(object: T, body: object[]): Promise<T> {
    const { name, namespace } = object.metadata;
    this.#onWrite('patch');
    return requestJson<T>(this.#kc, 'PATCH', objectPath(this.#ref, namespace, name), { body, contentType: JSON_PATCH });
  }
}

/** A JSON Pointer reference token (RFC 6901): `~` and `/` escaped, as in annotation keys with a prefix. */
function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

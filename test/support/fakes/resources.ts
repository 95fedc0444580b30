import { objectKey, type KubeObject } from '../../../src/api/meta.ts';
import { createMergePatch } from '../../../src/runtime/merge-patch.ts';
import type { ResourceClient } from '../../../src/runtime/resource-client.ts';

type Stored = KubeObject & { status?: unknown };

/**
 * One kind's objects as the API server holds them, with the writes a reconciler makes: status
 * patches (none when nothing changed, as ResourceClient skips them), finalizer adds and removes.
 * Every write bumps the resourceVersion and is counted; `store` reads like an informer cache.
 */
export class FakeResources<T extends Stored> {
  /** By work-queue key: "name", or "namespace/name". */
  readonly objects = new Map<string, T>();
  writes = 0;
  /** While set, every write fails with it (an API server that is restarting, say). */
  failWrites: unknown;
  #resourceVersion = 1;

  /** Stores the object as the API server would after a create or update. */
  put(object: T): T {
    object.metadata.resourceVersion = String(this.#resourceVersion++);
    this.objects.set(objectKey(object), object);
    return object;
  }

  /** A copy of what is stored, as an informer hands it out. */
  get(key: string): T | undefined {
    return structuredClone(this.objects.get(key));
  }

  /** The informer-cache view a reconciler reads from. */
  readonly store = { get: (key: string) => this.get(key), size: () => this.objects.size };

  readonly client: Pick<ResourceClient, 'patchStatus' | 'addFinalizer' | 'removeFinalizer'> = {
    patchStatus: async <U extends Stored>(object: U, status: unknown): Promise<U | undefined> => {
      if (createMergePatch(object.status ?? {}, status) === undefined) return undefined;
      return this.#write(object, (stored) => (stored.status = structuredClone(status)));
    },
    addFinalizer: async <U extends KubeObject>(object: U, finalizer: string, annotations: Record<string, string> = {}): Promise<U> => {
      if (object.metadata.finalizers?.includes(finalizer)) return object;
      return this.#write(object, (stored) => {
        stored.metadata.finalizers = [...(stored.metadata.finalizers ?? []), finalizer];
        if (Object.keys(annotations).length > 0) stored.metadata.annotations = { ...stored.metadata.annotations, ...annotations };
      });
    },
    removeFinalizer: async <U extends KubeObject>(object: U, finalizer: string): Promise<U> => {
      if (!object.metadata.finalizers?.includes(finalizer)) return object;
      return this.#write(object, (stored) => (stored.metadata.finalizers = stored.metadata.finalizers?.filter((f) => f !== finalizer)));
    },
  };

  #write<U extends KubeObject>(object: U, change: (stored: T) => void): U {
    if (this.failWrites !== undefined) throw this.failWrites;
    const key = objectKey(object);
    const stored = this.objects.get(key);
    if (!stored) throw Object.assign(new Error(`${key} not found`), { code: 404 });
    this.writes++;
    change(stored);
    // The last finalizer gone from an object being deleted: the API server removes it.
    if (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length) this.objects.delete(key);
    else this.put(stored);
    return structuredClone(stored) as unknown as U;
  }
}

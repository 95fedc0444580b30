import type http from 'node:http';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ApiError, type KubeAccess, readBody, resourceUrl, send } from './kube-http.ts';
import { silentLogger, type Logger } from './logger.ts';

/** The fields of any Kubernetes object the informer relies on. */
export interface KubeObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; managedFields?: unknown };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: unknown;
}

export interface ListPage {
  items: unknown[];
  resourceVersion: string;
  continueToken?: string;
}

/** Where an informer lists and watches; `kubeListWatch` is the real one, tests may pass a fake. */
export interface ListWatchSource {
  /** One LIST page; `limit` 0 asks for everything at once. */
  list(options: { limit: number; continueToken?: string }, signal: AbortSignal): Promise<ListPage>;
  /** Resolves once the server accepted the watch; the iterable ends when the server ends it and throws on failure. */
  watch(options: { resourceVersion: string; timeoutSeconds: number }, signal: AbortSignal): Promise<AsyncIterable<WatchEvent>>;
}

export { ApiError };

/** 410 Gone / Expired: the resourceVersion (or continue token) is older than the server keeps. */
export function isResourceExpired(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  return error.code === 410 || error.reason === 'Expired' || error.reason === 'Gone' || /too old resource version/i.test(error.message);
}

export interface KubeListWatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Deadline of one LIST request (default 60 s). */
  listTimeoutMs?: number;
}

/**
 * LIST and WATCH over node:https with the kubeconfig's TLS and credentials (applyToHTTPSOptions).
 * Not client-node's Watch: in 2.0.1 it aborts any watch quiet for 30 s and cannot be told otherwise.
 */
export function kubeListWatch(kc: KubeAccess, path: string, options: KubeListWatchOptions = {}): ListWatchSource {
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  return {
    async list({ limit, continueToken }, signal) {
      const url = resourceUrl(kc, path, { ...selectors, limit: limit > 0 ? String(limit) : undefined, continue: continueToken });
      const response = await openGet(kc, url, AbortSignal.any([signal, AbortSignal.timeout(options.listTimeoutMs ?? 60_000)]));
      const body = JSON.parse(await readBody(response)) as {
        kind?: string;
        apiVersion?: string;
        metadata?: { resourceVersion?: string; continue?: string };
        items?: KubeObjectLike[];
      };
      // List items carry no apiVersion/kind; watch events do: fill them in so handlers see one shape.
      const kind = body.kind?.replace(/List$/, '');
      const items = (body.items ?? []).map((item) => ({ apiVersion: body.apiVersion, kind, ...item }));
      return { items, resourceVersion: body.metadata?.resourceVersion ?? '', continueToken: body.metadata?.continue || undefined };
    },
    async watch({ resourceVersion, timeoutSeconds }, signal) {
      const url = resourceUrl(kc, path, { ...selectors, watch: '1', resourceVersion, timeoutSeconds: String(timeoutSeconds), allowWatchBookmarks: 'true' });
      // The server ends the watch after timeoutSeconds; the client deadline only catches a silently dead connection.
      const deadline = AbortSignal.timeout((timeoutSeconds + 60) * 1000);
      const response = await openGet(kc, url, AbortSignal.any([signal, deadline]));
      return watchEvents(response);
    },
  };
}

/** A GET that resolves with a 200 response, over the shared keep-alive connections (kube-http.ts). */
function openGet(kc: KubeAccess, url: URL, signal: AbortSignal): Promise<http.IncomingMessage> {
  return send(kc, 'GET', url, { signal });
}

/** One JSON event per line; the stream's errors (reset, premature close) surface from the iteration. */
async function* watchEvents(response: http.IncomingMessage): AsyncGenerator<WatchEvent> {
  response.setEncoding('utf8');
  let buffered = '';
  try {
    for await (const chunk of response) {
      buffered += chunk as string;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield JSON.parse(line) as WatchEvent;
      }
    }
  } finally {
    response.destroy();
  }
}

/** Handlers may be async; a rejection is logged like a throw. */
export type InformerEventHandler<T> = {
  onAdd?(object: T, info: AddInfo): void;
  onUpdate?(newObject: T, oldObject: T): void;
  /**
   * The object as the DELETED event carried it; for a delete noticed only by a relist, the last
   * object the informer knew, with `finalStateUnknown` set (client-go's DeletedFinalStateUnknown).
   */
  onDelete?(object: T, info: DeleteInfo): void;
};

export interface AddInfo {
  /**
   * The object came with the informer's first list (or the replay a new handler gets), not a later
   * change: client-go's isInInitialList, which controller-runtime queues at low priority.
   */
  initialList: boolean;
}

export interface DeleteInfo {
  /** Changes between the last known state and the deletion were missed (a relist found the object gone). */
  finalStateUnknown: boolean;
}

const INITIAL_LIST: AddInfo = Object.freeze({ initialList: true });
const CHANGE: AddInfo = Object.freeze({ initialList: false });

export interface InformerHealth {
  /** The first LIST completed (stays true afterwards). */
  synced: boolean;
  /** A WATCH stream is open right now. */
  watching: boolean;
  /** Failed LIST/WATCH attempts since the last one that reached the server; 410 relists do not count. */
  consecutiveFailures: number;
  lastError?: string;
  /** The HTTP status of the last failure, when the API server answered (404: the resource is not served, 403: RBAC). */
  lastErrorCode?: number;
  /** Epoch ms of the last completed LIST. */
  lastSyncAt?: number;
}

export type InformerSource = { kc: KubeAccess; path: string; labelSelector?: string; fieldSelector?: string } | { source: ListWatchSource };

export type InformerOptions<T> = InformerSource & {
  /** For logs; defaults to the path. */
  name?: string;
  /** LIST page size (default 500). */
  pageSize?: number;
  /** Applied to every object before it is stored; the default drops metadata.managedFields. */
  transform?: (object: T) => T;
  /**
   * Keep each object as deflated JSON, a fraction of its parsed size, at the cost of inflating it on
   * every get(), which then returns a fresh copy every time (figures in bench/RESULTS.md).
   */
  packed?: boolean;
  logger?: Logger;
  /** Retry delays after failures: exponential with jitter from initialMs up to maxMs (200 ms .. 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** WATCH timeoutSeconds is drawn from [min, max] (client-go: 5..10 min) so watches do not all end together. */
  watchTimeoutSeconds?: { min: number; max: number };
  /** A connection that stayed up this long resets the backoff (default 10 s), so a flapping server is not hammered. */
  backoffResetMs?: number;
  /**
   * A watch that brings neither an event nor a bookmark for this long is taken for a half-open
   * connection: it is aborted and started again from the last resourceVersion (default: three of
   * the API server's one-minute bookmark intervals).
   */
  watchIdleTimeoutMs?: number;
};

/** How often kube-apiserver's watch cache sends a bookmark to a watch that asked for them (cacher.go). */
export const API_SERVER_BOOKMARK_INTERVAL_MS = 60_000;

/** A watch stayed silent past the idle timeout: the connection is presumed dead. */
export class WatchSilentError extends Error {
  readonly silentMs: number;
  constructor(silentMs: number) {
    super(`no watch event or bookmark for ${Math.round(silentMs / 1000)} s`);
    this.name = 'WatchSilentError';
    this.silentMs = silentMs;
  }
}

/**
 * The events of a watch, or a WatchSilentError once none (bookmarks included) arrived for `idleMs`;
 * `onSilent` then releases the connection. Racing each next() also ends a stream that ignores its
 * abort signal. One timer per watch, not per event: a relist-sized burst of events stays cheap.
 */
async function* untilSilent<T>(events: AsyncIterable<T>, idleMs: number, onSilent: (error: WatchSilentError) => void): AsyncGenerator<T> {
  const iterator = events[Symbol.asyncIterator]();
  let waitingSince = performance.now();
  // A fresh promise per wait, settled by the one timer: racing every next() against one long-lived
  // promise would add a reaction to it per event, keeping every event of the watch reachable until it ends.
  let wake: ((silent: 'silent') => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const quietMs = performance.now() - waitingSince;
    if (wake && quietMs >= idleMs) wake('silent');
    else timer = setTimeout(check, wake ? idleMs - quietMs : idleMs);
  };
  timer = setTimeout(check, idleMs);
  let finished = false;
  try {
    for (;;) {
      waitingSince = performance.now();
      const next = iterator.next();
      const result = await Promise.race([next, new Promise<'silent'>((resolve) => (wake = resolve))]);
      wake = undefined;
      if (result === 'silent') {
        // The pending next() settles (most likely rejects) once the connection is torn down.
        next.catch(() => {});
        const error = new WatchSilentError(idleMs);
        onSilent(error);
        throw error;
      }
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    clearTimeout(timer);
    if (!finished) iterator.return?.()?.catch(() => {});
  }
}

/** Saves memory: managedFields is often the larger half of an object and controllers never read it. */
export function dropManagedFields<T>(object: T): T {
  const metadata = (object as KubeObjectLike).metadata;
  if (metadata && 'managedFields' in metadata) delete metadata.managedFields;
  return object;
}

/** The store key: "name" for cluster-scoped objects, "namespace/name" otherwise. */
export function storeKey(object: KubeObjectLike): string {
  const { name = '', namespace } = object.metadata ?? {};
  return namespace ? `${namespace}/${name}` : name;
}

/** The cached objects by key, as they are or packed; resourceVersions stay readable without unpacking. */
interface ObjectStore<T> {
  readonly size: number;
  get(key: string): T | undefined;
  version(key: string): string | undefined;
  set(key: string, object: T): void;
  delete(key: string): void;
  has(key: string): boolean;
  clear(): void;
  entries(): Iterable<[string, T]>;
}

class PlainStore<T extends KubeObjectLike> implements ObjectStore<T> {
  readonly #map = new Map<string, T>();
  get size(): number {
    return this.#map.size;
  }
  get = (key: string) => this.#map.get(key);
  version = (key: string) => resourceVersionOf(this.#map.get(key) ?? {});
  set = (key: string, object: T) => void this.#map.set(key, object);
  delete = (key: string) => void this.#map.delete(key);
  has = (key: string) => this.#map.has(key);
  clear = () => this.#map.clear();
  entries = () => this.#map.entries();
}

/**
 * Objects as deflated JSON. The first object stored becomes the preset dictionary of all the others:
 * objects of one kind share their field names and most values, so each packs into a small fraction
 * of its JSON. A small window and memLevel keep zlib's per-call state (and its malloc churn) small.
 */
class PackedStore<T extends KubeObjectLike> implements ObjectStore<T> {
  readonly #map = new Map<string, { version: string | undefined; data: string }>();
  // chunkSize under half of Buffer.poolSize: zlib's output buffers come from the shared pool instead of a
  // 16 KB malloc each, whose churn fragments the native heap (bench/RESULTS.md).
  #zlib: { level: number; windowBits: number; memLevel: number; chunkSize: number; dictionary?: Buffer } = {
    level: 1,
    windowBits: 13,
    memLevel: 5,
    chunkSize: 4000,
  };
  get size(): number {
    return this.#map.size;
  }
  get(key: string): T | undefined {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    const { windowBits, chunkSize, dictionary } = this.#zlib;
    return JSON.parse(inflateRawSync(Buffer.from(entry.data, 'latin1'), { windowBits, chunkSize, dictionary }).toString('utf8')) as T;
  }
  version = (key: string) => this.#map.get(key)?.version;
  set(key: string, object: T): void {
    const json = JSON.stringify(object);
    this.#zlib.dictionary ??= Buffer.from(json);
    // A latin1 string holds the bytes at one byte each, with none of a Buffer's per-object overhead.
    this.#map.set(key, { version: resourceVersionOf(object), data: deflateRawSync(json, this.#zlib).toString('latin1') });
  }
  delete = (key: string) => void this.#map.delete(key);
  has = (key: string) => this.#map.has(key);
  clear = () => this.#map.clear();
  *entries(): Iterable<[string, T]> {
    for (const key of this.#map.keys()) yield [key, this.get(key)!];
  }
}

/**
 * Keeps a local copy of one resource in sync with the API server: paginated LIST, then WATCH from
 * the list's resourceVersion. Unlike client-node's informer it never stops on its own: 410 Gone
 * relists and emits the differences, every other failure retries with backoff until stop().
 */
export class Informer<T extends KubeObjectLike = KubeObjectLike> {
  readonly name: string;
  readonly #source: ListWatchSource;
  readonly #pageSize: number;
  readonly #transform: (object: T) => T;
  readonly #logger: Logger;
  readonly #backoff: { initialMs: number; maxMs: number };
  readonly #watchTimeout: { min: number; max: number };
  readonly #backoffResetMs: number;
  readonly #watchIdleTimeoutMs: number;
  readonly #handlers = new Set<InformerEventHandler<T>>();
  readonly #packed: boolean;
  #store: ObjectStore<T>;
  #resourceVersion = '';
  #synced = false;
  #watching = false;
  #consecutiveFailures = 0;
  #backoffAttempt = 0;
  #lastError: string | undefined;
  #lastErrorCode: number | undefined;
  #lastSyncAt: number | undefined;
  #syncWaiters: (() => void)[] = [];
  #abort = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: InformerOptions<T>) {
    if ('source' in options) {
      this.#source = options.source;
      this.name = options.name ?? 'informer';
    } else {
      const { kc, path, labelSelector, fieldSelector } = options;
      this.#source = kubeListWatch(kc, path, { labelSelector, fieldSelector });
      this.name = options.name ?? path;
    }
    this.#pageSize = options.pageSize ?? 500;
    this.#transform = options.transform ?? dropManagedFields;
    this.#logger = (options.logger ?? silentLogger).child({ informer: this.name });
    this.#backoff = { initialMs: options.backoff?.initialMs ?? 200, maxMs: options.backoff?.maxMs ?? 30_000 };
    this.#watchTimeout = options.watchTimeoutSeconds ?? { min: 300, max: 600 };
    this.#backoffResetMs = options.backoffResetMs ?? 10_000;
    this.#watchIdleTimeoutMs = options.watchIdleTimeoutMs ?? 3 * API_SERVER_BOOKMARK_INTERVAL_MS;
    this.#packed = options.packed ?? false;
    this.#store = this.#newStore();
  }

  #newStore(): ObjectStore<T> {
    return this.#packed ? new PackedStore<T>() : new PlainStore<T>();
  }

  /**
   * Registers handlers; the new handler first gets onAdd for every stored object (the first list
   * announces objects as it stores them, so one registered midway gets those stored so far). Returns an unsubscribe.
   */
  addEventHandler(handler: InformerEventHandler<T>): () => void {
    this.#handlers.add(handler);
    for (const [, object] of this.#store.entries()) this.#call(handler, 'onAdd', object, INITIAL_LIST);
    return () => this.#handlers.delete(handler);
  }

  onAdd(handler: (object: T, info: AddInfo) => void): () => void {
    return this.addEventHandler({ onAdd: handler });
  }

  /** Gets the object as it was before the change too (client-node's informer does not pass it). */
  onUpdate(handler: (newObject: T, oldObject: T) => void): () => void {
    return this.addEventHandler({ onUpdate: handler });
  }

  onDelete(handler: (object: T, info: DeleteInfo) => void): () => void {
    return this.addEventHandler({ onDelete: handler });
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  /** Every object in the cache as an array: with a packed store that unpacks them all at once (see values()). */
  list(): T[] {
    return [...this.values()];
  }

  /** Every object in the cache, unpacked one at a time as the caller goes: a pass over 10,000 packed objects never holds them all. */
  *values(): Generator<T> {
    for (const [, object] of this.#store.entries()) yield object;
  }

  /** Objects in the cache, in O(1): list().length copies the whole cache (per reconcile, at 10,000 objects). */
  size(): number {
    return this.#store.size;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal?.reason ?? new Error('aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  health(): InformerHealth {
    return {
      synced: this.#synced,
      watching: this.#watching,
      consecutiveFailures: this.#consecutiveFailures,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
      ...(this.#lastErrorCode !== undefined && { lastErrorCode: this.#lastErrorCode }),
      ...(this.#lastSyncAt !== undefined && { lastSyncAt: this.#lastSyncAt }),
    };
  }

  start(): void {
    if (this.#running || this.#abort.signal.aborted) return;
    this.#running = this.#run();
  }

  /** Ends the open request and the retry loop; resolves once the loop has exited. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    this.#watching = false;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let needList = true;
    let expiredInARow = 0;
    while (!signal.aborted) {
      let connectedAt: number | undefined;
      try {
        if (needList) {
          await this.#listAndReplace(signal);
          needList = false;
        }
        const startedAt = performance.now();
        const watchAbort = new AbortController();
        const watchSignal = AbortSignal.any([signal, watchAbort.signal]);
        const events = await this.#source.watch({ resourceVersion: this.#resourceVersion, timeoutSeconds: this.#randomWatchTimeout() }, watchSignal);
        connectedAt = performance.now();
        this.#reachedServer();
        this.#watching = true;
        let received = 0;
        for await (const event of untilSilent(events, this.#watchIdleTimeoutMs, (error) => watchAbort.abort(error))) {
          this.#apply(event);
          received++;
          expiredInARow = 0;
        }
        this.#watching = false;
        if (performance.now() - connectedAt >= this.#backoffResetMs) this.#backoffAttempt = 0;
        this.#logger.debug({ resourceVersion: this.#resourceVersion, received }, 'watch ended; watching again');
        // A server that ends every watch at once must not turn this loop into a busy loop.
        if (received === 0 && performance.now() - startedAt < 1_000) await this.#sleep(this.#backoff.initialMs, signal);
      } catch (error) {
        this.#watching = false;
        if (signal.aborted) break;
        if (connectedAt !== undefined && performance.now() - connectedAt >= this.#backoffResetMs) this.#backoffAttempt = 0;
        if (error instanceof WatchSilentError) {
          // Not counted as a failure: the server was reached. Watching again at once finds out whether it still is.
          this.#logger.warn(
            { resourceVersion: this.#resourceVersion, silentMs: error.silentMs },
            'watch silent for longer than the bookmark interval allows (half-open connection?); watching again from the last resourceVersion',
          );
          continue;
        }
        if (isResourceExpired(error)) {
          needList = true;
          expiredInARow++;
          this.#logger.info(
            { resourceVersion: this.#resourceVersion, reason: 'expired', message: (error as Error).message },
            'resource version expired (410); relisting',
          );
          // Relist at once, unless expiry keeps repeating without progress.
          if (expiredInARow > 1) await this.#sleep(this.#delayFor(expiredInARow - 1), signal);
          continue;
        }
        this.#consecutiveFailures++;
        this.#backoffAttempt++;
        this.#lastError = errorMessage(error);
        this.#lastErrorCode = error instanceof ApiError ? error.code : undefined;
        const delayMs = this.#delayFor(this.#backoffAttempt);
        this.#logger.warn(
          { err: error, consecutiveFailures: this.#consecutiveFailures, delayMs: Math.round(delayMs), relist: needList },
          needList ? 'list failed; retrying' : 'watch failed; watching again from the last resourceVersion',
        );
        await this.#sleep(delayMs, signal);
      }
    }
  }

  async #listAndReplace(signal: AbortSignal): Promise<void> {
    // The first list of an empty cache fills the cache itself, page by page, and tells the handlers of
    // each object as it is stored: unpacking every object again afterwards to announce it would cost a
    // cold start over thousands of objects as much again as packing them. Any later list is compared
    // with the cache first (#replace), so handlers hear only of what changed.
    let direct = !this.#synced && this.#store.size === 0;
    let fresh = direct ? this.#store : this.#newStore();
    let resourceVersion = '';
    let continueToken: string | undefined;
    let limit = this.#pageSize;
    for (;;) {
      let page: ListPage;
      try {
        page = await this.#source.list({ limit, continueToken }, signal);
      } catch (error) {
        // The continue token outlived the server's history: start over in one unpaginated request, as client-go does.
        if (continueToken === undefined || !isResourceExpired(error)) throw error;
        this.#logger.info({ err: error }, 'continue token expired; listing again without pagination');
        // What the first pages added stays announced; the full list is compared with it like any relist.
        if (direct) [direct, fresh] = [false, this.#newStore()];
        else fresh.clear();
        continueToken = undefined;
        limit = 0;
        continue;
      }
      for (const raw of page.items) {
        const object = this.#transform(raw as T);
        const key = storeKey(object);
        const announce = direct && !fresh.has(key);
        fresh.set(key, object);
        if (announce) this.#emit('onAdd', object, INITIAL_LIST);
      }
      resourceVersion = page.resourceVersion;
      continueToken = page.continueToken;
      if (continueToken === undefined) break;
    }
    this.#reachedServer();
    if (!direct) this.#replace(fresh);
    this.#resourceVersion = resourceVersion;
    this.#lastSyncAt = Date.now();
    this.#logger.debug({ objects: fresh.size, resourceVersion }, 'listed');
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  /** Swaps in a full listing and emits what changed since the previous one. */
  #replace(fresh: ObjectStore<T>): void {
    const previous = this.#store;
    this.#store = fresh;
    for (const [key, object] of fresh.entries()) {
      if (!previous.has(key)) this.#emit('onAdd', object, this.#synced ? CHANGE : INITIAL_LIST);
      else if (previous.version(key) !== resourceVersionOf(object)) this.#emit('onUpdate', object, previous.get(key)!);
    }
    for (const [key, old] of previous.entries()) if (!fresh.has(key)) this.#emit('onDelete', old, { finalStateUnknown: true });
  }

  #apply(event: WatchEvent): void {
    const raw = event.object as KubeObjectLike & { code?: number; reason?: string; message?: string };
    switch (event.type) {
      case 'ERROR':
        throw new ApiError(raw?.code ?? 0, raw?.reason, raw?.message ?? 'watch ERROR event');
      case 'BOOKMARK':
        break;
      case 'ADDED':
      case 'MODIFIED': {
        const object = this.#transform(raw as T);
        const key = storeKey(object);
        const known = this.#store.has(key);
        const changed = known && this.#store.version(key) !== resourceVersionOf(object);
        const old = changed ? this.#store.get(key) : undefined;
        this.#store.set(key, object);
        if (!known) this.#emit('onAdd', object, CHANGE);
        else if (changed) this.#emit('onUpdate', object, old!);
        break;
      }
      case 'DELETED': {
        const object = this.#transform(raw as T);
        this.#store.delete(storeKey(object));
        this.#emit('onDelete', object, { finalStateUnknown: false });
        break;
      }
      default:
        this.#logger.warn({ type: event.type }, 'unknown watch event type; ignored');
        return;
    }
    const resourceVersion = raw?.metadata?.resourceVersion;
    if (resourceVersion) this.#resourceVersion = resourceVersion;
  }

  #emit(kind: 'onAdd', object: T, info: AddInfo): void;
  #emit(kind: 'onUpdate', object: T, old: T): void;
  #emit(kind: 'onDelete', object: T, info: DeleteInfo): void;
  #emit(kind: keyof InformerEventHandler<T>, object: T, extra: T | AddInfo | DeleteInfo): void {
    for (const handler of this.#handlers) this.#call(handler, kind, object, extra);
  }

  /** A handler that throws must not take the informer down with it. */
  #call(handler: InformerEventHandler<T>, kind: keyof InformerEventHandler<T>, object: T, extra: T | AddInfo | DeleteInfo): void {
    try {
      const result: unknown =
        kind === 'onUpdate'
          ? handler.onUpdate?.(object, extra as T)
          : kind === 'onDelete'
            ? handler.onDelete?.(object, extra as DeleteInfo)
            : handler.onAdd?.(object, extra as AddInfo);
      if (result instanceof Promise) result.catch((error: unknown) => this.#handlerFailed(kind, object, error));
    } catch (error) {
      this.#handlerFailed(kind, object, error);
    }
  }

  #handlerFailed(kind: string, object: T, error: unknown): void {
    this.#logger.error({ err: error, handler: kind, key: storeKey(object) }, 'informer event handler failed');
  }

  #reachedServer(): void {
    this.#consecutiveFailures = 0;
  }

  #delayFor(attempt: number): number {
    const { initialMs, maxMs } = this.#backoff;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
    return Math.min(maxMs, base * (0.75 + Math.random() * 0.5));
  }

  #randomWatchTimeout(): number {
    const { min, max } = this.#watchTimeout;
    return Math.floor(min + Math.random() * (max - min + 1));
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function resourceVersionOf(object: KubeObjectLike): string | undefined {
  return object.metadata?.resourceVersion;
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

import type { ListWatchSource, WatchEvent } from '../../../src/runtime/informer.ts';

/** A watch stream the test drives: push events, end it, or fail it. */
export class WatchStream implements AsyncIterable<WatchEvent> {
  readonly #events: WatchEvent[] = [];
  #ended = false;
  #error: unknown;
  #wake: (() => void) | undefined;

  push(type: WatchEvent['type'], object: unknown): void {
    this.#events.push({ type, object });
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
  fail(error: unknown): void {
    this.#error = error;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent> {
    for (;;) {
      const next = this.#events.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

/** An API server stand-in for an informer: paginated LIST over `objects`, WATCH calls recorded, failures injectable. */
export class FakeListWatch<T = unknown> implements ListWatchSource {
  objects: T[] = [];
  resourceVersion = '100';
  readonly lists: { limit: number; continueToken?: string }[] = [];
  readonly watches: { resourceVersion: string; timeoutSeconds: number; stream: WatchStream }[] = [];
  listFailures: unknown[] = [];
  watchFailures: unknown[] = [];

  async list(options: { limit: number; continueToken?: string }): Promise<{ items: unknown[]; resourceVersion: string; continueToken?: string }> {
    this.lists.push(options);
    const failure = this.listFailures.shift();
    if (failure) throw failure;
    const start = options.continueToken ? Number(options.continueToken) : 0;
    const end = options.limit > 0 ? start + options.limit : this.objects.length;
    const items = structuredClone(this.objects.slice(start, end));
    return { items, resourceVersion: this.resourceVersion, continueToken: end < this.objects.length ? String(end) : undefined };
  }

  async watch(options: { resourceVersion: string; timeoutSeconds: number }, signal: AbortSignal): Promise<AsyncIterable<WatchEvent>> {
    const failure = this.watchFailures.shift();
    if (failure) throw failure;
    const stream = new WatchStream();
    signal.addEventListener('abort', () => stream.fail(signal.reason), { once: true });
    this.watches.push({ ...options, stream });
    return stream;
  }

  lastWatch(): { resourceVersion: string; stream: WatchStream } {
    return this.watches.at(-1)!;
  }
}

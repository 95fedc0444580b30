import type { KubeObject } from '../api/meta.ts';
import { type KubeAccess, objectPath, requestJson } from './kube-http.ts';
import type { Logger } from './logger.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  emit(object: KubeObject, type: EventType, reason: string, message: string): void;
}

/** Events sent at the same time: they trail the work they describe, never compete with it for the API server. */
const MAX_IN_FLIGHT = 2;
/** Events waiting beyond this are dropped (as client-go's broadcaster does when its channel is full), with a warning. */
const MAX_QUEUED = 1_000;

/**
 * Kubernetes Events for what a user should see in `kubectl describe`. Fire-and-forget (an event
 * must never fail a reconcile), and the same event for the same object is sent once per window.
 * Sent in the background, two at a time: a burst of new setups (three events each) would otherwise
 * add its events to the API server's load exactly when the status writes users wait for need it.
 */
export class EventRecorder implements EventSink {
  readonly #kc: KubeAccess;
  readonly #component: string;
  readonly #logger: Logger;
  readonly #recent = new Map<string, number>();
  readonly #windowMs: number;
  readonly #queue: { namespace: string; body: object; reason: string }[] = [];
  readonly #onDropped: () => void;
  #inFlight = 0;
  #dropped = 0;

  /** onDropped: told of every event dropped because too many were waiting (a metric). */
  constructor(kc: KubeAccess, options: { component: string; logger: Logger; dedupeWindowMs?: number; onDropped?: () => void }) {
    this.#kc = kc;
    this.#component = options.component;
    this.#logger = options.logger;
    this.#windowMs = options.dedupeWindowMs ?? 10 * 60_000;
    this.#onDropped = options.onDropped ?? (() => {});
  }

  /** Events not sent yet: waiting, or on their way to the API server. */
  pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  emit(object: KubeObject, type: EventType, reason: string, message: string): void {
    const key = `${object.metadata.uid}|${reason}|${message}`;
    const now = Date.now();
    if ((this.#recent.get(key) ?? 0) > now - this.#windowMs) return;
    this.#recent.set(key, now);
    if (this.#recent.size > 10_000) this.#prune(now);
    // Cluster-scoped objects have no namespace; `kubectl describe` finds their events in any namespace.
    const namespace = object.metadata.namespace ?? 'default';
    const timestamp = new Date(now).toISOString();
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${object.metadata.name}.`, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.#component },
      reportingComponent: this.#component,
      reportingInstance: process.env.HOSTNAME ?? this.#component,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
    };
    if (this.#queue.length >= MAX_QUEUED) {
      this.#onDropped();
      if (this.#dropped++ % 100 === 0) this.#logger.warn({ dropped: this.#dropped, reason }, 'too many events waiting to be sent; dropping');
      return;
    }
    this.#queue.push({ namespace, body, reason });
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const { namespace, body, reason } = this.#queue.shift()!;
      this.#inFlight++;
      requestJson(this.#kc, 'POST', objectPath({ group: '', version: 'v1', plural: 'events' }, namespace), { body })
        .catch((error: unknown) => this.#logger.warn({ err: error, reason }, 'could not record event'))
        .finally(() => {
          this.#inFlight--;
          this.#pump();
        });
    }
  }

  #prune(now: number): void {
    for (const [key, at] of this.#recent) if (at <= now - this.#windowMs) this.#recent.delete(key);
  }
}

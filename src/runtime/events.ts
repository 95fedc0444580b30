import type { KubeObject } from '../api/meta.ts';
import { type KubeAccess, objectPath, requestJson } from './kube-http.ts';
import type { Logger } from './logger.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  emit(object: KubeObject, type: EventType, reason: string, message: string): void;
}

/**
 * Kubernetes Events for what a user should see in `kubectl describe`. Fire-and-forget (an event
 * must never fail a reconcile), and the same event for the same object is sent once per window.
 */
export class EventRecorder implements EventSink {
  readonly #kc: KubeAccess;
  readonly #component: string;
  readonly #logger: Logger;
  readonly #recent = new Map<string, number>();
  readonly #windowMs: number;

  constructor(kc: KubeAccess, options: { component: string; logger: Logger; dedupeWindowMs?: number }) {
    this.#kc = kc;
    this.#component = options.component;
    this.#logger = options.logger;
    this.#windowMs = options.dedupeWindowMs ?? 10 * 60_000;
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
    requestJson(this.#kc, 'POST', objectPath({ group: '', version: 'v1', plural: 'events' }, namespace), {
      body: {
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
      },
    }).catch((error: unknown) => this.#logger.warn({ err: error, reason }, 'could not record event'));
  }

  #prune(now: number): void {
    for (const [key, at] of this.#recent) if (at <= now - this.#windowMs) this.#recent.delete(key);
  }
}

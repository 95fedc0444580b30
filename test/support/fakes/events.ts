import type { KubeObject } from '../../../src/api/meta.ts';
import type { EventSink, EventType } from '../../../src/runtime/events.ts';

export interface RecordedEvent {
  object: string;
  type: EventType;
  reason: string;
  message: string;
}

/** An EventSink that keeps every Event in memory. */
export class RecordingEvents implements EventSink {
  readonly events: RecordedEvent[] = [];

  emit(object: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({ object: object.metadata.name, type, reason, message });
  }

  reasons(): string[] {
    return this.events.map((event) => event.reason);
  }
}

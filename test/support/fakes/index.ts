// In-memory doubles of the operator's own interfaces, for unit tests (test/unit). End-to-end
// tests use the real thing: the local stack (harness/stack) and its clients.
export { FakeClock } from './clock.ts';
export { FakeDns } from './dns.ts';
export { RecordingEvents, type RecordedEvent } from './events.ts';
export { FakeListWatch, WatchStream } from './list-watch.ts';
export { recordingLogger, type RecordedLine } from './logger.ts';
export { recordingControllerMetrics, recordingQueueMetrics } from './metrics.ts';
export { FakeResources } from './resources.ts';
export { MemorySes } from './ses.ts';

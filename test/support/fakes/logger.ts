import type { Logger } from '../../../src/runtime/logger.ts';

export interface RecordedLine {
  level: string;
  fields: Record<string, unknown>;
  message?: string;
}

/** A Logger that keeps every line, child bindings merged into its fields; children share the parent's lines. */
export function recordingLogger(lines: RecordedLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: RecordedLine[] } {
  const at =
    (level: string) =>
    (first: object | string, message?: string): void => {
      if (typeof first === 'string') lines.push({ level, fields: { ...bindings }, message: first });
      else lines.push({ level, fields: { ...bindings, ...first }, message });
    };
  return {
    lines,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

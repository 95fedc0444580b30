import { pino } from 'pino';
import type { Logger } from '../runtime/logger.ts';

/**
 * JSON logs on stdout. Anything that looks like a credential is redacted wherever it appears in
 * a log line's fields, so a logged error or config object cannot leak one.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { component: 'ses-operator' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        'credentials',
        '*.credentials',
        '*.secretAccessKey',
        '*.sessionToken',
        '*.accessKeyId',
        '*.token',
        '*.authorization',
        '*.headers.authorization',
        'err.config',
        'err.$response',
      ],
      censor: '[redacted]',
    },
  }) as unknown as Logger;
}

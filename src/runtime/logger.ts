/** One log level: pino's call shapes, `log(fields, message?)` and `log(message)`. */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/** The subset of pino the operator uses, so a pino logger fits as is and tests can pass a recorder. */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const ignore: LogFn = () => {};

/** Discards everything: the default when a component is given no logger. */
export const silentLogger: Logger = {
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  child: () => silentLogger,
};

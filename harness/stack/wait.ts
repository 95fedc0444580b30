import type { ManagedProcess } from './processes.ts';

export interface WaitOptions {
  /** How long to keep trying (default 20 s). */
  timeoutMs?: number;
  /** Pause between two checks (default 100 ms). */
  intervalMs?: number;
  /** Fail at once, with its last output, when this process exits while waiting. */
  process?: ManagedProcess;
}

/**
 * The one polling helper of the harness, the tests and the benchmarks: calls `check` until it
 * returns a value other than `undefined` or `false` and resolves with it. A check that throws is
 * tried again (the API server may be restarting); on timeout the error names `what`, the last
 * value or error seen and, with `process`, that process's last output.
 */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  const watched = options.process;
  let exitCode: number | string | undefined;
  void watched?.exited.then((code) => (exitCode = code));
  let last: unknown;
  for (;;) {
    if (watched && exitCode !== undefined) throw new Error(`${watched.name} exited (${exitCode}) while waiting for ${what}:\n${watched.tail()}`);
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${detail}${watched ? `\n${watched.tail()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

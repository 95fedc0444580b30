import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/** A child process the stack started: stopped on demand, with its recent output kept for error messages. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** The last lines the process wrote, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (fault tests). */
  kill(): Promise<void>;
}

const TAIL_BYTES = 8192;

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): ManagedProcess {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  let tail = '';
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let spawnError: Error | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      tail += `\n${error.message}`;
      resolve('spawn-error');
    });
    child.once('exit', (code, signal) => {
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  async function signalAndWait(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (done) return;
    child.kill(signal);
    const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }

  return {
    name,
    get pid() {
      if (child.pid === undefined) throw spawnError ?? new Error(`${name} did not start`);
      return child.pid;
    },
    exited,
    tail: () => tail,
    stop: (graceMs = 10_000) => signalAndWait('SIGTERM', graceMs),
    kill: () => signalAndWait('SIGKILL', 5_000),
  };
}

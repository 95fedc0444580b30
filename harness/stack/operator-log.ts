import { open } from 'node:fs/promises';

/** One line of the operator's JSON log. */
export interface LogLine {
  time?: string;
  level?: string;
  msg?: string;
  [field: string]: unknown;
}

/** The JSON lines of a log; lines that are not JSON (a stack trace, the half-written last line) are skipped. */
export function parseJsonLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // the last line may still be half written (or cut by SIGKILL)
    }
  }
  return lines;
}

/** Reads a JSON log incrementally, keeping only the first line of each message: a benchmark's log grows too large to re-read on every poll. */
export class FirstLogLines {
  readonly #path: string;
  #offset = 0;
  #partial = '';
  readonly #first = new Map<string, LogLine>();

  constructor(path: string) {
    this.#path = path;
  }

  #reading: Promise<void> | undefined;

  async find(message: string): Promise<LogLine | undefined> {
    if (!this.#first.has(message)) await this.#readOnce();
    return this.#first.get(message);
  }

  /**
   * One read at a time, shared by callers that ask meanwhile: two at once would both start at the same
   * offset and each advance it, skipping what the second should have read (a fault scenario waited for a
   * "running" line skipped that way until it timed out).
   */
  #readOnce(): Promise<void> {
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<void> {
    const file = await open(this.#path, 'r').catch(() => undefined);
    if (!file) return;
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        const lines = (this.#partial + buffer.toString('utf8', 0, bytesRead)).split('\n');
        this.#partial = lines.pop() ?? '';
        for (const line of parseJsonLines(lines.join('\n'))) {
          const msg = String(line.msg);
          if (!this.#first.has(msg)) this.#first.set(msg, line);
        }
      }
    } finally {
      await file.close();
    }
  }
}

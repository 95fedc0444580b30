import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FirstLogLines } from '../../harness/stack/operator-log.ts';

describe('FirstLogLines', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds every line when callers ask at the same time, and the lines written after', async () => {
    dir = await mkdtemp(join(tmpdir(), 'operator-log-'));
    const file = join(dir, 'operator.log');
    const line = (msg: string) => `${JSON.stringify({ level: 'info', msg, padding: 'x'.repeat(200) })}\n`;
    await writeFile(file, line('starting') + line('caches synced'));
    const log = new FirstLogLines(file);
    // Two waiters polling one log at once (a scenario's background wait and its own), as the fault suite does.
    const [starting, synced] = await Promise.all([log.find('starting'), log.find('caches synced')]);
    expect([starting?.msg, synced?.msg]).toEqual(['starting', 'caches synced']);
    await appendFile(file, line('running'));
    expect((await log.find('running'))?.msg).toBe('running');
  });
});

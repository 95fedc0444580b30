import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { waitUntil } from '../../harness/stack/wait.ts';

describe('npm run demo', () => {
  it('brings everything up, reaches Ready through external-dns with nobody touching DNS, and leaves nothing behind on Ctrl-C', async () => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'harness/stack/demo.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    await waitUntil('the demo to reach Ready', () => /acme-mail is Ready, \d+ s after start/.test(output), { timeoutMs: 120_000, intervalMs: 200 }).catch(
      (error: Error) => {
        throw new Error(`${error.message}:\n${output}`);
      },
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(output).toMatch(/acme-mail\s+acme_demo\s+mail\.acme\.test\s+true\s+True/);
    expect(output).toContain('get ses -w');
    expect(output).toContain('handed them to external-dns (DNSEndpoint default/acme-mail)');
    expect(output).not.toMatch(/published the records in the local DNS server/);
    expect(output).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/metrics/);
    const stackDir = /--kubeconfig (\/\S+)\/kube\/kubeconfig/.exec(output)![1]!;

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped; nothing left behind.');
    await expect(access(stackDir)).rejects.toThrow();
    const leftovers = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter((line) => line.includes(stackDir));
    expect(leftovers).toEqual([]);
  });
});

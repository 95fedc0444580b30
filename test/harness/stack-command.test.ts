import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { kubectl } from '../../harness/stack/kubectl.ts';

const run = promisify(execFile);

describe('npm run stack', () => {
  it('prints one JSON line; kubectl and nsupdate work against it; Ctrl-C removes everything', async () => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'harness/stack/main.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      child.once('exit', () => reject(new Error(`the stack exited before printing its line: ${out}`)));
    });
    const endpoints = JSON.parse(line) as { kubeconfig: string; sesEndpoint: string; dnsServer: string; region: string };
    expect(Object.keys(endpoints).sort()).toEqual(['dnsServer', 'kubeconfig', 'region', 'sesEndpoint']);

    const { stdout: namespaces } = await kubectl(endpoints.kubeconfig, ['get', 'ns', '-o', 'name']);
    expect(namespaces).toContain('namespace/default');

    const [host, port] = endpoints.dnsServer.split(':');
    const script = `server ${host} ${port}\nupdate add hello.stack.test 60 TXT "published by hand"\nsend\n`;
    await new Promise<void>((resolve, reject) => {
      const nsupdate = execFile('nsupdate', [], (error) => (error ? reject(error) : resolve()));
      nsupdate.stdin?.end(script);
    });
    const resolver = new Resolver();
    resolver.setServers([endpoints.dnsServer]);
    expect(await resolver.resolveTxt('hello.stack.test')).toEqual([['published by hand']]);

    const health = await fetch(`${endpoints.sesEndpoint}/_simulator/health`);
    expect(health.status).toBe(200);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const stackDir = join(endpoints.kubeconfig, '..', '..');
    await expect(access(stackDir)).rejects.toThrow();
    const { stdout: processes } = await run('ps', ['-eo', 'args']);
    expect(processes.split('\n').filter((p) => p.includes(stackDir))).toEqual([]);
  });
});

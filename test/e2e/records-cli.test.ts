import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { requireCommand } from '../../harness/stack/commands.ts';
import { splitHostPort } from '../../harness/stack/dns-records.ts';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { findKubectl } from '../../harness/stack/kubectl.ts';
import { cluster, fieldManagers, uniqueSuffix } from '../support/cluster.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';

const run = promisify(execFile);
const c = cluster();
let operator: OperatorProcess;
let pluginDir: string;
/** The compiled package, inside the project as in an installed package: its imports find node_modules. */
const outDir = join(PROJECT_ROOT, '.cache', `kubectl-ses-dist-${process.pid}`);

/** A command's exit code and output, whether it succeeded or not. */
async function exec(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

const cli = (...args: string[]) => exec(process.execPath, [join(PROJECT_ROOT, 'src/cli/main.ts'), ...args]);

/** `kubectl ...` as a user runs it: the plugin found on PATH, the cluster from $KUBECONFIG, no --kubeconfig flag. */
async function kubectlAsUser(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, PATH: `${pluginDir}${delimiter}${process.env.PATH}`, KUBECONFIG: c.stack.kubeconfig };
  return exec(await findKubectl(), args, env);
}

async function withRecords(name: string): Promise<SesSetup> {
  await expect.poll(async () => (await c.getSetup(name))?.status?.dnsRecords?.length, { timeout: 20_000, interval: 100 }).toBe(5);
  return (await c.getSetup(name))!;
}

/** The records of a zone-file fragment, without comments: what a person pastes into their zone. */
const zoneLines = (fragment: string) =>
  fragment
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith(';'))
    .map((line) => line.replace(/\t; \w+$/, ''));

describe('records for any DNS host, and the kubectl plugin', () => {
  beforeAll(async () => {
    await c.installCrds();
    operator = await startOperator();
    // What `npm run build` and `npm install -g` make of package.json "bin": the compiled entry,
    // executable, linked on PATH under its bin name; `node` there is the Node the project needs.
    pluginDir = await mkdtemp(join(tmpdir(), 'kubectl-ses-'));
    await run(join(PROJECT_ROOT, 'node_modules/.bin/tsc'), ['-p', join(PROJECT_ROOT, 'tsconfig.build.json'), '--outDir', outDir]);
    const bin = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const entry = join(outDir, relative('dist', bin.bin['kubectl-ses']!));
    await chmod(entry, 0o755);
    await symlink(entry, join(pluginDir, 'kubectl-ses'));
    await symlink(process.execPath, join(pluginDir, 'node'));
  });
  afterAll(async () => {
    await operator?.stop();
    if (pluginDir) await rm(pluginDir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
  });

  it('prints a zone-file fragment named-checkzone loads; published as printed, the setup verifies', async () => {
    const id = uniqueSuffix();
    const domain = `mail.rec-${id}.test`;
    await c.createSetup(`rec-${id}`, { tenantName: `rec_${id}`, domainIdentity: domain, dmarc: { policy: 'quarantine' } });
    const setup = await withRecords(`rec-${id}`);

    const bind = await cli('records', `rec-${id}`, '--format', 'bind', '--ttl', '600', '--kubeconfig', c.stack.kubeconfig);
    expect(bind.code, bind.stderr).toBe(0);
    const lines = zoneLines(bind.stdout);
    expect(lines).toHaveLength(5);

    // The fragment in a zone of its own, loaded by BIND's own checker, which prints the zone as BIND reads it.
    const dir = await mkdtemp(join(tmpdir(), 'records-zone-'));
    try {
      const zoneFile = join(dir, 'zone');
      await writeFile(zoneFile, `$TTL 300\n@ IN SOA ns.test. hostmaster.test. 1 60 30 3600 1\n@ IN NS ns.test.\nns IN A 127.0.0.1\n${bind.stdout}`);
      const checkzone = await requireCommand('named-checkzone', 'named-checkzone comes with bind9: apt-get install bind9');
      const loaded = await exec(checkzone, ['-D', '-o', '-', 'test', zoneFile]);
      expect(loaded.code, loaded.stdout + loaded.stderr).toBe(0);
      const tokens = setup.status!.identity!.dkimTokens!;
      for (const token of tokens)
        expect(loaded.stdout).toMatch(new RegExp(`^${token}\\._domainkey\\.${domain}\\.\\s+600\\s+IN\\s+CNAME\\s+${token}\\.dkim\\.amazonses\\.com\\.$`, 'm'));
      expect(loaded.stdout).toMatch(new RegExp(`^${domain}\\.\\s+600\\s+IN\\s+MX\\s+10 inbound-smtp\\.${c.stack.region}\\.amazonaws\\.com\\.$`, 'm'));
      expect(loaded.stdout).toMatch(new RegExp(`^_dmarc\\.${domain}\\.\\s+600\\s+IN\\s+TXT\\s+"v=DMARC1; p=quarantine;"$`, 'm'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // Published exactly as printed (the DNS host here is the stack's BIND, updated with nsupdate).
    const [host, port] = splitHostPort(c.stack.dnsServer);
    const nsupdate = await requireCommand('nsupdate', 'nsupdate comes with bind9-dnsutils');
    const update = await exec(nsupdate, ['-v'], process.env, [`server ${host} ${port}`, ...lines.map((line) => `update add ${line}`), 'send', ''].join('\n'));
    expect(update.code, update.stderr).toBe(0);

    // DKIM counts once SES itself has seen the CNAMEs, on its own schedule (the simulator's: every
    // 2 s); until then verify says "not verified yet", and a person runs it again.
    let verify = await kubectlAsUser(['ses', 'verify', `rec-${id}`]);
    for (let attempt = 1; verify.code === 1 && attempt < 5; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      verify = await kubectlAsUser(['ses', 'verify', `rec-${id}`]);
    }
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`SesSetup rec-${id}: all records verified`);
    expect(verify.stdout.split('\n').filter((line) => /^(DKIM|MX|DMARC)\s.*\syes\s*$/.test(line))).toHaveLength(5);
    // The plugin's verify request is written under its own name (its User-Agent), not "unknown".
    const written = await c.getSetup(`rec-${id}`);
    expect(
      fieldManagers(written)
        .filter((entry) => !entry.subresource)
        .map((entry) => entry.manager),
    ).toContain('kubectl-ses');
  });

  it('kubectl ses records prints every format from the current context, and kubectl plugin list finds it', async () => {
    const id = uniqueSuffix();
    await c.createSetup(`plg-${id}`, { tenantName: `plg_${id}`, domainIdentity: `mail.plg-${id}.test` });
    const setup = await withRecords(`plg-${id}`);

    const list = await kubectlAsUser(['plugin', 'list']);
    expect(list.stdout).toContain(join(pluginDir, 'kubectl-ses'));

    const table = await kubectlAsUser(['ses', 'records', `plg-${id}`]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^PURPOSE\s+TYPE\s+NAME\s+VALUE\s+VERIFIED\s+DETAIL$/);
    expect(table.stdout).toContain(`DMARC    TXT    _dmarc.mail.plg-${id}.test`);

    const json = await kubectlAsUser(['ses', 'records', `plg-${id}`, '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: `plg-${id}`,
      domain: `mail.plg-${id}.test`,
      records: setup.status!.dnsRecords!.map((r) => ({ purpose: r.purpose, type: r.type, name: r.name, value: r.value, ttl: 300 })),
    });

    const csv = await kubectlAsUser(['ses', 'records', `plg-${id}`, '--format', 'csv']);
    expect(csv.stdout.split('\r\n')).toContain(`DMARC,TXT,_dmarc.mail.plg-${id}.test,v=DMARC1; p=none;,false`);

    const unknown = await kubectlAsUser(['ses', 'records', `plg-${id}`, '--format', 'yaml']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--format must be one of table, bind, json, csv');

    const missing = await kubectlAsUser(['ses', 'records', `absent-${id}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`"absent-${id}" not found`);

    const help = await kubectlAsUser(['ses', '--help']);
    expect(help.stdout).toContain('Usage: kubectl ses records <sessetup-name>');
  });
});

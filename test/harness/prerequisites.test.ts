import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrerequisites, missingTools, prerequisitesMessage, type Machine } from '../../harness/stack/prerequisites.ts';

// A machine of the test's own: a PATH of fake executables, no sbin folders, any uid. Go-built tools
// are looked up in an empty cache, so each one counts as still to be built.
let dir: string;
let bin: string;
let savedCache: string | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ses-operator-prereq-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  savedCache = process.env.SES_OPERATOR_CACHE;
  process.env.SES_OPERATOR_CACHE = join(dir, 'cache');
});

afterEach(async () => {
  if (savedCache === undefined) delete process.env.SES_OPERATOR_CACHE;
  else process.env.SES_OPERATOR_CACHE = savedCache;
  await rm(dir, { recursive: true, force: true });
});

function machine(uid: number): Machine {
  return { folders: [bin], env: { PATH: bin }, goFolders: [], uid };
}

async function fakeCommand(name: string, script: string): Promise<void> {
  await writeFile(join(bin, name), `#!/bin/sh\n${script}\n`);
  await chmod(join(bin, name), 0o755);
}

const fakeGo = (version: string) => fakeCommand('go', `[ "$1 $2" = "env GOVERSION" ] && echo ${version}`);

/** apt-get that records each call and "installs" named and nsupdate as fake commands. */
async function fakeAptGet(exitCode = 0): Promise<string> {
  const log = join(dir, 'apt.log');
  await fakeCommand(
    'apt-get',
    [
      `echo "$DEBIAN_FRONTEND $*" >> ${log}`,
      `[ ${exitCode} -ne 0 ] && { echo "E: Unable to locate package" >&2; exit ${exitCode}; }`,
      `if [ "$1" = install ]; then for c in named nsupdate; do printf '#!/bin/sh\\n' > ${bin}/$c; /bin/chmod 755 ${bin}/$c; done; fi`,
      'exit 0',
    ].join('\n'),
  );
  return log;
}

describe('prerequisites of the local stack', () => {
  it('lists every missing tool with the command that installs it, in one message', async () => {
    const missing = await missingTools(machine(1000), ['etcd', 'kube-apiserver']);
    expect(missing.map((tool) => tool.command)).toEqual(['named', 'nsupdate', 'go']);
    const message = prerequisitesMessage(missing);
    expect(message).toContain('named: the local DNS server (BIND)\n      install: apt-get install bind9\n');
    expect(message).toContain('nsupdate: publishes records in the local DNS server\n      install: apt-get install bind9-dnsutils\n');
    expect(message).toMatch(/go: Go 1\.24 or newer .*\(to build etcd, kube-apiserver\); no `go` on PATH/);
    expect(message).toContain('install: install Go from https://go.dev/dl/');
    expect(message).toContain('All Debian packages at once: sudo apt-get install bind9 bind9-dnsutils');
    await expect(ensurePrerequisites({ goTools: ['etcd'], machine: machine(1000) })).rejects.toThrow(message.split('\n')[0]);
  });

  it('names a Go that is too old, and asks for no Go when nothing is left to build', async () => {
    await fakeGo('go1.19.8');
    const [go] = await missingTools({ ...machine(1000), folders: [] }, ['kubectl']).then((all) => all.filter((t) => t.command === 'go'));
    expect(go?.why).toContain(`${join(bin, 'go')} is go1.19.8, too old`);
    expect((await missingTools(machine(1000), [])).map((tool) => tool.command)).toEqual(['named', 'nsupdate']);
  });

  it('passes when BIND and a new enough Go are there', async () => {
    await fakeGo('go1.26.0');
    await fakeCommand('named', 'exit 0');
    await fakeCommand('nsupdate', 'exit 0');
    expect(await missingTools(machine(1000), ['etcd', 'kube-apiserver', 'kubectl', 'helm'])).toEqual([]);
    await expect(ensurePrerequisites({ goTools: ['helm'], machine: machine(1000) })).resolves.toBeUndefined();
  });

  it('as root with apt-get: updates once, installs exactly the missing packages non-interactively', async () => {
    await fakeGo('go1.26.0');
    await fakeCommand('nsupdate', 'exit 0');
    const aptLog = await fakeAptGet();
    const lines: string[] = [];
    await ensurePrerequisites({ goTools: ['etcd'], machine: machine(0), log: (line) => lines.push(line) });
    expect((await readFile(aptLog, 'utf8')).trim().split('\n')).toEqual([
      'noninteractive update -qq',
      'noninteractive install -y -qq --no-install-recommends bind9',
    ]);
    expect(lines).toEqual(['installing bind9 with apt-get (first run only) ...']);
  });

  it('as root with apt-get, still names what apt cannot provide (Go) after installing the rest', async () => {
    const aptLog = await fakeAptGet();
    const failure = ensurePrerequisites({ goTools: ['etcd'], machine: machine(0) });
    await expect(failure).rejects.toThrow(/Missing before the local stack can start:\n {2}- go: /);
    await expect(failure).rejects.not.toThrow(/named|nsupdate/);
    expect(await readFile(aptLog, 'utf8')).toContain('install -y -qq --no-install-recommends bind9 bind9-dnsutils');
  });

  it('never runs apt-get when not root, nor when apt-get is missing; says when apt-get fails', async () => {
    await fakeGo('go1.26.0');
    const aptLog = await fakeAptGet();
    await expect(ensurePrerequisites({ goTools: [], machine: machine(1000) })).rejects.toThrow(/apt-get install bind9 bind9-dnsutils/);
    await expect(readFile(aptLog, 'utf8')).rejects.toThrow(/ENOENT/);

    await rm(join(bin, 'apt-get'));
    await expect(ensurePrerequisites({ goTools: [], machine: machine(0) })).rejects.toThrow(/- named: .*\n.*\n {2}- nsupdate: /);

    await fakeAptGet(100);
    await expect(ensurePrerequisites({ goTools: [], machine: machine(0) })).rejects.toThrow(
      'apt-get could not install bind9 bind9-dnsutils: E: Unable to locate package',
    );
  });
});

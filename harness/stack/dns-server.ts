import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcess, type ManagedProcess } from './processes.ts';
import { waitUntil } from './wait.ts';
import { requireCommand } from './commands.ts';

/** The zone the local DNS server is authoritative for: `.test` is reserved (RFC 2606), so any name under it is ours. */
export const LOCAL_ZONE = 'test';

export interface DnsServer {
  /** "127.0.0.1:port", the form resolvers and nsupdate take. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Starts BIND's named on a loopback port, authoritative for `test.` and accepting RFC 2136
 * dynamic updates and zone transfers from loopback, so tests, the demo, people (nsupdate) and
 * external-dns (RFC 2136 provider) publish records.
 */
export async function startDnsServer(options: { port?: number; dir?: string } = {}): Promise<DnsServer> {
  const named = await requireCommand('named', 'BIND is needed for the local DNS server: apt-get install bind9 bind9-dnsutils');
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'ses-operator-dns-')));
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort(true));
  await writeFile(join(dir, 'named.conf'), namedConf(dir, host, port));
  await writeFile(join(dir, `${LOCAL_ZONE}.zone`), zoneFile());
  const args = ['-g', '-4', '-c', join(dir, 'named.conf')];
  // named drops to the `bind` user when started as root; it must be able to write its journal in `dir`.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const child = startProcess('named', named, args, { logFile: join(dir, 'named.log') });
  const address = `${host}:${port}`;
  const stop = async () => {
    await child.stop(5_000);
    if (ownsDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([address]);
    await waitUntil('named to answer for the test. zone', async () => ((await resolver.resolveSoa(LOCAL_ZONE)) ? true : undefined), {
      timeoutMs: 20_000,
      process: child,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, host, port, process: child, stop };
}

function namedConf(dir: string, host: string, port: number): string {
  return `options {
  directory "${dir}";
  pid-file "${join(dir, 'named.pid')}";
  listen-on port ${port} { ${host}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  allow-query { 127.0.0.0/8; };
  notify no;
  // A test zone takes whatever a customer might publish: no integrity or hostname checks refuse an update.
  check-integrity no;
  check-names primary ignore;
  check-mx ignore;
  check-mx-cname ignore;
  check-srv-cname ignore;
  check-sibling no;
};
controls { };
zone "${LOCAL_ZONE}" {
  type primary;
  file "${join(dir, `${LOCAL_ZONE}.zone`)}";
  allow-update { 127.0.0.0/8; };
  // external-dns's RFC 2136 provider lists the zone by AXFR to see what it owns; without it, it deletes nothing.
  allow-transfer { 127.0.0.0/8; };
};
`;
}

function zoneFile(): string {
  // Short negative TTL: a name published after a miss must resolve again quickly.
  return `$TTL 5
@ IN SOA ns.${LOCAL_ZONE}. hostmaster.${LOCAL_ZONE}. 1 60 30 3600 1
@ IN NS ns.${LOCAL_ZONE}.
ns IN A 127.0.0.1
`;
}

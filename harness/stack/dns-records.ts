import { execFile } from 'node:child_process';
import { recordData } from '../../src/cli/records-format.ts';
import { quotedStrings } from '../../src/dns/txt-strings.ts';
import { requireCommand } from './commands.ts';

export type PublishableType = 'CNAME' | 'MX' | 'TXT' | 'A';

export interface PublishedRecord {
  name: string;
  type: PublishableType;
  /** As written in a zone file's RDATA: a CNAME target, "10 host" for MX, the text itself for TXT. */
  value: string;
  ttl?: number;
}

/**
 * Publishes records in the local DNS server with nsupdate (RFC 2136), as a customer would at
 * their DNS host. Each name+type given is replaced as a whole by the values given for it.
 */
export async function publishRecords(server: string, records: PublishedRecord[]): Promise<void> {
  const lines: string[] = [];
  const replaced = new Set<string>();
  for (const record of records) {
    const key = `${fqdn(record.name)} ${record.type}`;
    if (!replaced.has(key)) lines.push(`update delete ${key}`);
    replaced.add(key);
    lines.push(`update add ${fqdn(record.name)} ${record.ttl ?? 5} ${record.type} ${rdata(record)}`);
  }
  await nsupdate(server, lines);
}

/** Removes every record of the given name and type. */
export async function removeRecords(server: string, records: { name: string; type: string }[]): Promise<void> {
  await nsupdate(
    server,
    records.map((record) => `update delete ${fqdn(record.name)} ${record.type}`),
  );
}

function rdata(record: PublishedRecord): string {
  return record.type === 'A' ? record.value : recordData({ type: record.type, value: record.value });
}

/** A TXT string holds at most 255 bytes, so longer text goes out as several quoted strings. */
export const splitTxt = quotedStrings;

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

async function nsupdate(server: string, updates: string[]): Promise<void> {
  if (updates.length === 0) return;
  const binary = await requireCommand('nsupdate', "nsupdate comes with Debian's bind9-dnsutils: apt-get install bind9-dnsutils");
  const [host, port] = splitHostPort(server);
  const script = [`server ${host} ${port}`, ...updates, 'send', ''].join('\n');
  await new Promise<void>((resolve, reject) => {
    // TCP (-v): large TXT updates do not fit a UDP datagram.
    const child = execFile(binary, ['-v'], { timeout: 15_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`nsupdate against ${server} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
    child.stdin?.end(script);
  });
}

export function splitHostPort(address: string): [string, number] {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match) return [address, 53];
  return [match[1]!.replace(/^\[|\]$/g, ''), Number(match[2])];
}

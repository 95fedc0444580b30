import { execFile } from 'node:child_process';
import { inboundSmtpHost } from '../src/dns/desired-records.ts';
import { splitHostPort, splitTxt } from '../harness/stack/dns-records.ts';

/** Records per DNS UPDATE message: a message must stay under 64 KB, and each of these is ~100 bytes. */
const RECORDS_PER_MESSAGE = 400;
/** Messages per nsupdate process: one process per message would cost a fork each. */
const MESSAGES_PER_PROCESS = 25;

/**
 * Publishes every record a domain needs before its SesSetup exists ("records already published").
 * The DKIM tokens are random and only known once SES creates the identity, so the three CNAMEs come
 * from one DNAME, `_domainkey.<domain>` -> `<signing zone>`: a resolver asking for
 * `<token>._domainkey.<domain>` CNAME gets exactly `<token>.<signing zone>` (RFC 6672), as if the
 * customer had published each CNAME. MX and DMARC are published as they are asked for.
 */
export async function publishDomains(server: string, domains: string[], region: string, signingZone = 'dkim.amazonses.com'): Promise<void> {
  const lines = domains.flatMap((domain) => [
    `update add _domainkey.${domain}. 60 DNAME ${signingZone}.`,
    `update add ${domain}. 60 MX 10 ${inboundSmtpHost(region)}.`,
    `update add _dmarc.${domain}. 60 TXT ${splitTxt('v=DMARC1; p=none;')}`,
  ]);
  const messages: string[][] = [];
  for (let start = 0; start < lines.length; start += RECORDS_PER_MESSAGE) messages.push(lines.slice(start, start + RECORDS_PER_MESSAGE));
  for (let start = 0; start < messages.length; start += MESSAGES_PER_PROCESS) {
    await nsupdate(server, messages.slice(start, start + MESSAGES_PER_PROCESS));
  }
}

function nsupdate(server: string, messages: string[][]): Promise<void> {
  const [host, port] = splitHostPort(server);
  const script = [`server ${host} ${port}`, ...messages.flatMap((lines) => [...lines, 'send']), ''].join('\n');
  return new Promise((resolve, reject) => {
    const child = execFile('nsupdate', ['-v'], { timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`nsupdate against ${server} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
    child.stdin?.end(script);
  });
}

import { parseArgs } from 'node:util';
import type { SesSetup } from '../api/sessetup.ts';
import { formatRecords, RECORD_FORMATS, type RecordFormat } from './records-format.ts';
import { sesSetupClient } from './sessetup-client.ts';

/** `program` is how the user ran it: "ses-operator", or "kubectl ses" for the plugin. */
export const recordsUsage = (
  program = 'ses-operator',
) => `Usage: ${program} records <sessetup-name> [--format table|bind|json|csv] [--ttl 300] [--kubeconfig PATH]

Prints the DNS records a SesSetup's status asks you to publish, for any DNS host:
  table  for reading (default)
  bind   a zone-file fragment to paste into a zone: absolute names, a TTL, quoted TXT
  json   for scripts; csv for DNS hosts that import a spreadsheet`;

/** `ses-operator records <name>`: the records from status, without asking the operator for anything. */
export async function recordsCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, program?: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', short: 'o', default: 'table' },
      ttl: { type: 'string', default: '300' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    out.write(`${recordsUsage(program)}\n`);
    return values.help ? 0 : 2;
  }
  const format = values.format as RecordFormat;
  if (!RECORD_FORMATS.includes(format)) {
    process.stderr.write(`--format must be one of ${RECORD_FORMATS.join(', ')}, got "${values.format}"\n`);
    return 2;
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2_147_483_647) {
    process.stderr.write(`--ttl must be a whole number of seconds (0 to 2147483647), got "${values.ttl}"\n`);
    return 2;
  }
  const name = positionals[0]!;
  const setup = await (await sesSetupClient(values.kubeconfig)).get<SesSetup>(name);
  const records = setup.status?.dnsRecords ?? [];
  if (records.length === 0) {
    process.stderr.write(
      `SesSetup ${name} lists no DNS records yet: the operator writes them to status once SES has created the identity (is the operator running?)\n`,
    );
    return 1;
  }
  out.write(formatRecords({ name, domain: setup.spec.domainIdentity, dnsVerified: setup.status?.dnsVerified ?? false, records }, format, ttl));
  return 0;
}

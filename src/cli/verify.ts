import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { VERIFY_ANNOTATION } from '../api/group.ts';
import type { SesSetup } from '../api/sessetup.ts';
import { parseDuration } from './duration.ts';
import { recordsTable } from './records-table.ts';
import { sesSetupClient } from './sessetup-client.ts';

/** `program` is how the user ran it: "ses-operator", or "kubectl ses" for the plugin. */
export const verifyUsage = (program = 'ses-operator') => `Usage: ${program} verify <sessetup-name> [--kubeconfig PATH] [--timeout 60s] [--json]

Asks the operator for a live DNS check now (sets the ${VERIFY_ANNOTATION} annotation),
waits until the fresh result is in status, and prints the records.`;

/** `ses-operator verify <name>`: the REST API's POST .../verify (docs/rest-api.md), as an annotation the operator answers. */
export async function verifyCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, program?: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string' },
      timeout: { type: 'string', default: '60s' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    out.write(`${verifyUsage(program)}\n`);
    return values.help ? 0 : 2;
  }
  const name = positionals[0]!;
  const timeoutMs = parseDuration(values.timeout);
  const client = await sesSetupClient(values.kubeconfig);
  const request = `${new Date().toISOString()}-${randomBytes(3).toString('hex')}`;
  await client.patchAnnotations(name, undefined, { [VERIFY_ANNOTATION]: request });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const setup = await client.get<SesSetup>(name);
    if (setup.status?.lastHandledVerifyRequest === request) {
      const records = setup.status.dnsRecords ?? [];
      if (values.json)
        out.write(`${JSON.stringify({ name, dnsVerified: setup.status.dnsVerified ?? false, dnsCheckedAt: setup.status.dnsCheckedAt, records }, null, 2)}\n`);
      else {
        out.write(`${recordsTable(records)}\n\n`);
        out.write(
          `SesSetup ${name}: ${setup.status.dnsVerified ? 'all records verified' : 'not verified yet'} (checked ${setup.status.dnsCheckedAt ?? 'never'})\n`,
        );
      }
      return setup.status.dnsVerified ? 0 : 1;
    }
    if (Date.now() > deadline) {
      process.stderr.write(`timed out after ${values.timeout}: the operator has not answered the verify request for ${name} (is it running?)\n`);
      return 3;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

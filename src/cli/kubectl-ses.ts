#!/usr/bin/env node
// kubectl-ses: the kubectl plugin. `kubectl ses records NAME` and `kubectl ses verify NAME` run the
// same code as `ses-operator records|verify`; kubectl finds this executable on PATH by its name and
// passes its environment on, so $KUBECONFIG, else the current context of ~/.kube/config, applies.
import { runEntry } from './entry.ts';
import { recordsCommand, recordsUsage } from './records.ts';
import { verifyCommand, verifyUsage } from './verify.ts';

const PROGRAM = 'kubectl ses';
const USAGE = `Usage: ${PROGRAM} <command> <sessetup-name> [flags]

Commands:
  records   print a SesSetup's DNS records for any DNS host: --format table|bind|json|csv
  verify    check a SesSetup's DNS records now and print them
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'records':
      return recordsCommand(rest, process.stdout, PROGRAM);
    case 'verify':
      return verifyCommand(rest, process.stdout, PROGRAM);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n${recordsUsage(PROGRAM)}\n\n${verifyUsage(PROGRAM)}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

runEntry(PROGRAM, main);

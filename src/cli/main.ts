#!/usr/bin/env node
// ses-operator: `run` the operator, print a SesSetup's `records`, or `verify` them now.
import { runEntry } from './entry.ts';
import { recordsCommand, recordsUsage } from './records.ts';
import { runCommand, runUsage } from './run.ts';
import { verifyCommand, verifyUsage } from './verify.ts';

const USAGE = `Usage: ses-operator <command> [flags]

Commands:
  run       run the operator (ses-operator run --help lists its settings)
  records   print a SesSetup's DNS records for any DNS host: table, zone file, JSON, CSV (ses-operator records --help)
  verify    check a SesSetup's DNS records now and print them (ses-operator verify --help)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest);
    case 'records':
      return recordsCommand(rest);
    case 'verify':
      return verifyCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n${runUsage()}\n${recordsUsage()}\n\n${verifyUsage()}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

runEntry('ses-operator', main);

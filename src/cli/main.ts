#!/usr/bin/env node
// ses-operator: `run` the operator, or `verify` a SesSetup's DNS records now.
import { runCommand, runUsage } from './run.ts';
import { verifyCommand, VERIFY_USAGE } from './verify.ts';

const USAGE = `Usage: ses-operator <command> [flags]

Commands:
  run       run the operator (ses-operator run --help lists its settings)
  verify    check a SesSetup's DNS records now and print them (ses-operator verify --help)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest);
    case 'verify':
      return verifyCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n${runUsage()}\n${VERIFY_USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`ses-operator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

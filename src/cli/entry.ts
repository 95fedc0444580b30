import { setUserAgent } from '../runtime/kube-http.ts';

/** Runs a command-line entry point: exits with the code it returns, or prints its error and exits 1. */
export function runEntry(program: string, main: (argv: string[]) => Promise<number>): void {
  // "kubectl ses" writes as kubectl-ses, the plugin's file name.
  setUserAgent(program.replaceAll(' ', '-'));
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${program}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from '../../harness/stack/stack.ts';
import { envFromLocalStack } from './env.ts';
import { formatReport } from './report.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { scanForSecrets } from './security.ts';
import { passed, type ScenarioResult } from './workload.ts';

/**
 * `npm run test:faults [-- --small] [--only crashes,dns-faults] [--out results.md]`: starts its own
 * local stack (so it can restart kube-apiserver and set simulator faults in-process), runs every
 * fault scenario one after another, prints the table and exits 1 if any invariant broke.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { small: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean', default: false } },
  });
  const size = values.small ? 'small' : 'full';
  const only = values.only?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? [];
  if (unknown.length) {
    process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
    return 2;
  }
  const log = (line: string) => {
    if (!values.quiet) process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
  };
  const started = Date.now();
  const stack = await startLocalStack({ log: (line) => log(`[stack] ${line}`) });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().then(() => process.exit(130)));
  const results: ScenarioResult[] = [];
  try {
    // Operator logs live outside the stack's folder: kept when a scenario fails, for a post-mortem.
    const logDir = await mkdtemp(join(tmpdir(), 'ses-operator-faults-'));
    const env = envFromLocalStack(stack, logDir);
    await env.kube.installCrds();
    log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s; running ${size} scenarios`);
    for (const scenario of SCENARIOS) {
      if (only && !only.includes(scenario.name)) continue;
      log(`--- ${scenario.name}`);
      const result = await scenario.run({ env, size, log });
      log(
        `${passed(result) ? 'PASS' : 'FAIL'} ${scenario.name}: ${result.converged}/${result.objects} converged, ${result.leaked} leaked, ${result.duplicated} duplicated`,
      );
      results.push(result);
    }
    const security = await scanForSecrets(
      env,
      results.flatMap((r) => r.logFiles),
    );
    const report = [
      formatReport(results),
      '',
      `${security.summary}; and each of the ${results.reduce((sum, r) => sum + r.watchedVersions, 0)} SesSetup versions the scenarios' watches saw`,
      ...security.findings.map((finding) => `  ! ${finding}`),
      '',
      `machine: ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB memory (${Math.round(freemem() / 2 ** 30)} GiB free); total ${((Date.now() - started) / 1000).toFixed(0)} s`,
    ].join('\n');
    process.stdout.write(`\n${report}\n`);
    if (values.out) await writeFile(values.out, `${report}\n`);
    const ok = results.every(passed) && security.findings.length === 0;
    if (ok) await rm(logDir, { recursive: true, force: true });
    else process.stdout.write(`operator logs kept in ${logDir}\n`);
    return ok ? 0 : 1;
  } finally {
    await stop();
  }
}

process.exitCode = await main();

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import type { Row } from '../../bench/report.ts';

/**
 * `npm run bench -- --small --guard 2` end to end: the benchmark keeps working, and it is CI's
 * regression guard. The table is printed either way; the test fails when a figure uses more than
 * twice its budget (latency p50 over 2.3x its floor, p99 over 2.6x, throughput over 2.2x its bound, ...) or a count
 * that must hold at any speed is missed (3 SES calls per new setup, no throttling, no writes and no
 * unnecessary SES calls at rest, an orphan sweep and REST API reads included). Twice the budget, because ratios move by tens of percent with the
 * load of a shared 2-core machine (bench/RESULTS.md has the spread of five runs).
 */
describe('npm run bench -- --small', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every scenario against the local stack and reports every figure', { timeout: 600_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'ses-bench-'));
    const json = join(dir, 'report.json');
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bench/main.ts'), '--small', '--guard', '2', '--json', json, '--out', join(dir, 'out')], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    // The table goes to the test log, where CI keeps it.
    process.stdout.write(stdout);
    // 3: the guard found a regression (listed below the table and checked next); anything else is a broken harness.
    expect([0, 3], `bench exited ${code}:\n${stderr.slice(-4000)}`).toContain(code);

    const report = JSON.parse(await readFile(json, 'utf8')) as { failed: boolean; size: string; rows: Row[]; guard?: { failures: string[] } };
    expect(report.failed).toBe(false);
    expect(report.guard?.failures, 'figures over twice their budget, or count budgets missed').toEqual([]);
    expect(code).toBe(0);
    expect(report.size).toBe('small');
    const row = (scenario: string, figure: string) => {
      const found = report.rows.find((r) => r.scenario.startsWith(scenario) && r.figure.startsWith(figure));
      expect(found, `no row "${scenario}" / "${figure}"`).toBeDefined();
      expect(Number.isFinite(found!.value), `${scenario} / ${figure} = ${found!.value}`).toBe(true);
      return found!;
    };
    for (const figure of ['apply -> records in status p50', 'apply -> Ready p50', 'apply -> Ready p99']) {
      expect(row('latency', figure).reference!.value).toBeGreaterThan(0);
    }
    // The tail's cause beside it: CPU per setup on the whole machine, the operator's own share in the note.
    const cpu = row('latency', 'CPU per new setup, whole machine');
    expect(cpu.value).toBeGreaterThan(0);
    expect(cpu.reference!.value).toBeGreaterThan(0);
    expect(cpu.note).toMatch(/^operator run: machine [\d.]+ ms \(operator [1-9][\d.]*, API server [\d.]+/);
    // The floor does the operator's work: its status writes carry what the operator's carry.
    expect(row('latency', 'a setup as its Ready write left it').budget!.met).toBe(true);
    row('throughput', 'time until all have records');
    row('deletion', 'time until all finalizers are gone');
    row('scale', 'resident memory after sync');
    row('scale', 'cold start');
    row('scale', 'CPU per no-op reconcile');
    row('scale', 'SES calls per hour');
    row('scale', 'resident memory peak');
    row('scale', 'one new setup');
    expect(row('publication', 'apply -> Ready through external-dns p50').reference!.value).toBeGreaterThan(0);
    expect(row('REST API refresh', 'GET detail with live refresh p99').reference!.value).toBeGreaterThan(0);
    row('new setup (no other setups)', 'one new setup');
    // Counts that hold on any machine: the minimum SES calls, no throttling under a matched limiter, no writes at rest.
    expect(row('SES calls', 'per new setup until records in status').budget!.met).toBe(true);
    expect(row('throughput', 'SES calls per new setup').budget!.met).toBe(true);
    expect(row('throughput', 'TooManyRequests').value).toBe(0);
    expect(row('scale', 'API writes in').value).toBe(0);
    expect(row('scale', 'API writes during cold start').value).toBe(0);
    expect(row('scale', 'DNSEndpoint writes in steady state').value).toBe(0);
    expect(row('scale', 'unnecessary SES calls').value).toBe(0);
    // One orphan sweep inside the steady window, listing only its pages; REST API reads cost nothing, a refresh its three calls.
    expect(row('scale', 'orphan sweep: SES calls per sweep').budget!.met).toBe(true);
    expect(row('scale', 'REST API: 5 list GETs').value).toBe(0);
    expect(row('scale', 'REST API: one GET with live refresh').value).toBe(3);
    expect(stdout).toMatch(/\| scenario +\| figure +\| measured/);
    expect(stdout).toMatch(/\d+ budgets met, \d+ missed/);
    expect(stdout).toMatch(/regression guard: every figure within 2x its budget/);
  });
});

import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { instructions, parseDockerfile, type DockerStage } from '../../harness/stack/dockerfile.ts';
import { imageRuntime } from '../../harness/stack/deployment-node-options.ts';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { DEPLOY_DIR } from '../support/deploy.ts';

/**
 * deploy/Dockerfile's rules, checked without a Docker engine (there is none here): its stages and
 * instructions are parsed, and what the final stage runs is built with the same `npm run build`
 * and started with node, the way the image's ENTRYPOINT starts it.
 */
const run = promisify(execFile);

const all = instructions;

/** Bare module names imported by the compiled files reachable from `entry` (relative imports followed). */
async function bareImports(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = await readFile(file, 'utf8');
    // tsc's ES module output: `import ... from "x"`, `export ... from "x"`, `import "x"`, `import("x")`.
    for (const match of code.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g)) {
      const spec = match[1] ?? match[2];
      if (!spec) continue;
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else bare.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return bare;
}

describe('deploy/Dockerfile (rules; no Docker engine here)', () => {
  let stages: DockerStage[];
  beforeAll(async () => {
    stages = parseDockerfile(await readFile(join(DEPLOY_DIR, 'Dockerfile'), 'utf8'));
  });

  it('is multi-stage on a Node 24 base: npm ci + npm run build in the build stage, production dependencies only in the final one', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:24[-.]/);
    const [build, final] = [stages[0]!, stages.at(-1)!];
    expect(all(build, 'RUN')).toEqual(expect.arrayContaining(['npm ci', 'npm run build']));
    const finalRuns = all(final, 'RUN').join(' && ');
    expect(finalRuns).toMatch(/npm ci --omit=dev/);
    expect(finalRuns).not.toMatch(/npm run build|npm ci(?! --omit=dev)/);
    // The final stage takes only the compiled output from the build stage.
    expect(all(final, 'COPY').filter((args) => args.startsWith('--from='))).toEqual([`--from=${build.name} /app/dist ./dist`]);
  });

  it('runs as a numeric non-root user, with the compiled operator as entry point and `run` as default command', () => {
    const final = stages.at(-1)!;
    const user = all(final, 'USER').at(-1);
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user!.split(':')[0])).toBeGreaterThan(0);
    expect(user!.split(':')[0]).toBe('65532'); // the Deployment's runAsUser
    // node, the image's node flags (which NODE_OPTIONS cannot carry), the compiled operator.
    expect(JSON.parse(all(final, 'ENTRYPOINT').at(-1)!)).toEqual(['node', ...imageRuntime().nodeFlags, 'dist/cli/main.js']);
    expect(JSON.parse(all(final, 'CMD').at(-1)!)).toEqual(['run']);
    expect(all(final, 'WORKDIR').at(-1)).toBe('/app');
  });

  it('copies only files that exist and that .dockerignore lets into the build context', async () => {
    const ignored = (await readFile(join(PROJECT_ROOT, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const stage of stages) {
      for (const args of all(stage, 'COPY').filter((a) => !a.startsWith('--from='))) {
        const sources = args.split(/\s+/).slice(0, -1);
        for (const source of sources) {
          await access(join(PROJECT_ROOT, source));
          expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`))).toBe(false);
        }
      }
    }
    // ... and keeps local state out of it.
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
  });

  it('`npm run build` produces dist/cli/main.js; it starts under node and needs only production dependencies', async () => {
    await run('npm', ['run', 'build'], { cwd: PROJECT_ROOT, timeout: 300_000 });
    const entry = join(PROJECT_ROOT, 'dist/cli/main.js');
    await access(entry);
    // As the image's ENTRYPOINT (its node flags and ENV) + `run --help`: node takes the flags, and every module of the operator loads.
    const image = imageRuntime();
    const { stdout } = await run(process.execPath, [...image.nodeFlags, entry, 'run', '--help'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...image.env },
      timeout: 30_000,
    });
    expect(stdout).toMatch(/^Usage: ses-operator run/m);
    expect(stdout).toContain('--leader-elect');
    // `npm ci --omit=dev` installs only "dependencies": nothing the compiled operator imports may be a devDependency.
    const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const missing = [...(await bareImports(entry))].filter((name) => !name.startsWith('node:') && !builtins.has(name) && !(name in pkg.dependencies));
    expect(missing).toEqual([]);
  }, 320_000);
});

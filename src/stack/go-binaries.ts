import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Go wrapper modules in tools/ that build real control-plane binaries from the Go module proxy. */
export type GoTool = 'kube-apiserver' | 'etcd';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where built binaries are kept between runs: $SES_OPERATOR_CACHE, else $XDG_CACHE_HOME or ~/.cache. */
export function cacheRoot(): string {
  return process.env.SES_OPERATOR_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ses-operator');
}

/**
 * Returns the path of the built tool, building it only when no binary exists for the wrapper's
 * current go.mod + go.sum + main.go (the cache key), so only the first run pays for the build.
 */
export async function ensureGoBinary(tool: GoTool, log: (line: string) => void = () => {}): Promise<string> {
  const moduleDir = join(PROJECT_ROOT, 'tools', tool);
  const key = await cacheKey(moduleDir);
  const target = join(cacheRoot(), 'bin', `${tool}-${key}`, tool);
  if (await exists(target)) return target;
  const go = await findGo();
  log(`building ${tool} from the Go module proxy (first run only; a few minutes on 2 cores) ...`);
  await mkdir(dirname(target), { recursive: true });
  // Build to a private name, then rename: concurrent builders never see a half-written binary.
  const partial = `${target}.${process.pid}.partial`;
  try {
    await run(go, ['build', '-trimpath', '-ldflags', '-s -w', '-o', partial, '.'], {
      cwd: moduleDir,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim() },
    });
  } catch (error) {
    await rm(partial, { force: true });
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`building ${tool} failed in ${moduleDir}:\n${stderr}`);
  }
  await rename(partial, target);
  log(`built ${tool}: ${target}`);
  return target;
}

async function cacheKey(moduleDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(await readFile(join(moduleDir, file)));
  return hash.digest('hex').slice(0, 16);
}

async function findGo(): Promise<string> {
  for (const candidate of [process.env.GO, 'go', '/usr/local/go/bin/go'].filter((c): c is string => !!c)) {
    try {
      const { stdout } = await run(candidate, ['env', 'GOVERSION']);
      const [, major, minor] = /go(\d+)\.(\d+)/.exec(stdout) ?? [];
      if (Number(major) > 1 || Number(minor) >= 24) return candidate;
      throw new Error(`found ${stdout.trim()} at ${candidate}; Go 1.24 or newer is needed`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new Error(
    'The Go toolchain (1.24 or newer) is needed once, to build kube-apiserver and etcd for the local stack. ' +
      'Install Go and put `go` on PATH (or set GO=/path/to/go), then run again.',
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

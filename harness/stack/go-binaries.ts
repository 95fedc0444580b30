import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findCommand } from './commands.ts';
import { patchedWrapper, PATCHES_FILE } from './go-patches.ts';

const run = promisify(execFile);

/**
 * The Go wrapper modules in tools/ that build real binaries from the Go module proxy: the control
 * plane, kubectl, helm, Argo CD's health code for the Argo CD health check's tests, and external-dns.
 */
export const GO_TOOLS = ['etcd', 'kube-apiserver', 'kubectl', 'helm', 'argocd-health', 'external-dns'] as const;
export type GoTool = (typeof GO_TOOLS)[number];

/** What `go build` builds in each wrapper: its own main package, or a dependency's command by import path. */
const BUILD_TARGET: Record<GoTool, string> = {
  'kube-apiserver': '.',
  etcd: '.',
  kubectl: 'k8s.io/kubernetes/cmd/kubectl',
  helm: 'helm.sh/helm/v3/cmd/helm',
  'argocd-health': '.',
  'external-dns': 'sigs.k8s.io/external-dns',
};

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
  const { moduleDir, ldflags, target } = await buildPlan(tool);
  if (await exists(target)) return target;
  const go = await findGo();
  log(`building ${tool} from the Go module proxy (first run only; a few minutes on 2 cores) ...`);
  await mkdir(dirname(target), { recursive: true });
  // Build to a private name, then rename: concurrent builders never see a half-written binary.
  const partial = `${target}.${process.pid}.partial`;
  const patched = await patchedWrapper(go, moduleDir);
  try {
    await run(go, ['build', '-trimpath', '-ldflags', ldflags, '-o', partial, BUILD_TARGET[tool]], {
      cwd: patched?.dir ?? moduleDir,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim() },
    });
  } catch (error) {
    await rm(partial, { force: true });
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`building ${tool} failed in ${moduleDir}:\n${stderr}`);
  } finally {
    await patched?.remove();
  }
  await rename(partial, target);
  log(`built ${tool}: ${target}`);
  await pruneOtherBuilds(tool, dirname(target));
  return target;
}

/** The cached binary of a tool, if this wrapper's current go.mod/go.sum/Go files were built before. */
export async function cachedGoBinary(tool: GoTool): Promise<string | undefined> {
  const { target } = await buildPlan(tool);
  return (await exists(target)) ? target : undefined;
}

async function buildPlan(tool: GoTool): Promise<{ moduleDir: string; ldflags: string; target: string }> {
  const moduleDir = join(PROJECT_ROOT, 'tools', tool);
  const ldflags = await linkerFlags(tool, moduleDir);
  const key = await cacheKey(moduleDir, ldflags);
  return { moduleDir, ldflags, target: join(cacheRoot(), 'bin', `${tool}-${key}`, tool) };
}

/**
 * kube-apiserver and kubectl report their version from linker-set variables (kubectl refuses the
 * placeholder "v0.0.0-master" and warns about skew from it), so stamp the version the wrapper's
 * go.mod requires, as Kubernetes' own build does.
 */
async function linkerFlags(tool: GoTool, moduleDir: string): Promise<string> {
  if (tool === 'helm') return helmLinkerFlags(moduleDir);
  if (tool === 'external-dns') return externalDnsLinkerFlags(moduleDir);
  if (tool !== 'kube-apiserver' && tool !== 'kubectl') return '-s -w';
  const goMod = await readFile(join(moduleDir, 'go.mod'), 'utf8');
  const version = /k8s\.io\/kubernetes (v(\d+)\.(\d+)\.\d+)/.exec(goMod);
  if (!version) throw new Error(`no k8s.io/kubernetes requirement in ${moduleDir}/go.mod`);
  const [, gitVersion, major, minor] = version;
  const stamp = (pkg: string) => [`gitVersion=${gitVersion}`, `gitMajor=${major}`, `gitMinor=${minor}`, 'gitTreeState=clean'].map((v) => `-X ${pkg}.${v}`);
  return ['-s -w', ...stamp('k8s.io/component-base/version'), ...stamp('k8s.io/client-go/pkg/version')].join(' ');
}

/**
 * As helm's Makefile does: stamp helm's version, and the Kubernetes version `helm template` and
 * `helm lint` assume (client-go v0.N -> 1.N); unstamped they say "v3.19" and Kubernetes 1.20.
 */
async function helmLinkerFlags(moduleDir: string): Promise<string> {
  const goMod = await readFile(join(moduleDir, 'go.mod'), 'utf8');
  const helm = /helm\.sh\/helm\/v3 (v3\.\d+\.\d+)/.exec(goMod)?.[1];
  const k8sMinor = /k8s\.io\/client-go v0\.(\d+)\./.exec(goMod)?.[1];
  if (!helm || !k8sMinor) throw new Error(`no helm.sh/helm/v3 or k8s.io/client-go requirement in ${moduleDir}/go.mod`);
  const version = [`version=${helm}`, 'gitTreeState=clean'].map((v) => `-X helm.sh/helm/v3/internal/version.${v}`);
  const kube = ['pkg/chartutil', 'pkg/lint/rules'].flatMap((pkg) => [
    `-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1`,
    `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${k8sMinor}`,
  ]);
  return ['-s -w', ...version, ...kube].join(' ');
}

/** As external-dns's Makefile does: stamp its version, which it logs at start ("unknown" otherwise), marked when patched. */
async function externalDnsLinkerFlags(moduleDir: string): Promise<string> {
  const version = /sigs\.k8s\.io\/external-dns (v\d+\.\d+\.\d+)/.exec(await readFile(join(moduleDir, 'go.mod'), 'utf8'))?.[1];
  if (!version) throw new Error(`no sigs.k8s.io/external-dns requirement in ${moduleDir}/go.mod`);
  const patched = (await exists(join(moduleDir, PATCHES_FILE))) ? '+ses-operator-patches' : '';
  return `-s -w -X sigs.k8s.io/external-dns/pkg/apis/externaldns.Version=${version}${patched}`;
}

async function cacheKey(moduleDir: string, ldflags: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(ldflags);
  // go.mod, go.sum, then the wrapper's Go files (main.go; tools.go for helm) in name order, and its patches.
  const files = await readdir(moduleDir);
  const goFiles = files.filter((file) => file.endsWith('.go')).sort();
  for (const file of ['go.mod', 'go.sum', ...goFiles]) hash.update(await readFile(join(moduleDir, file)));
  if (files.includes(PATCHES_FILE)) hash.update(await readFile(join(moduleDir, PATCHES_FILE)));
  return hash.digest('hex').slice(0, 16);
}

/** The oldest Go asked for: a wrapper whose go.mod names a newer `go` line makes it fetch that toolchain itself (GOTOOLCHAIN=auto). */
const MINIMUM_GO = { major: 1, minor: 24 };
export const GO_NEEDED = `Go ${MINIMUM_GO.major}.${MINIMUM_GO.minor} or newer builds the local stack's binaries from the Go module proxy, once`;
export const GO_INSTALL = 'install Go from https://go.dev/dl/ into /usr/local/go, or put `go` on PATH, or set GO=/path/to/go';
export const GO_FOLDERS = ['/usr/local/go/bin'];

/**
 * The Go toolchain to build with: $GO when set, else the first new enough `go` on PATH or in Go's
 * default install folder (Debian's own golang-go may be older than the one in /usr/local/go).
 */
export async function locateGo(env: { GO?: string; PATH?: string }, folders: string[]): Promise<{ go: string } | { problem: string }> {
  const found = env.GO
    ? [env.GO]
    : (await Promise.all([...(env.PATH ?? '').split(delimiter), ...folders].map((folder) => findCommand('go', [folder])))).filter(
        (path): path is string => !!path,
      );
  if (found.length === 0) return { problem: `no \`go\` on PATH${folders.map((folder) => ` or in ${folder}`).join('')}, and GO is not set` };
  const problems: string[] = [];
  for (const candidate of new Set(found)) {
    const version = await run(candidate, ['env', 'GOVERSION']).then(
      ({ stdout }) => stdout.trim(),
      () => undefined,
    );
    const [, major, minor] = /go(\d+)\.(\d+)/.exec(version ?? '') ?? [];
    if (Number(major) > MINIMUM_GO.major || (Number(major) === MINIMUM_GO.major && Number(minor) >= MINIMUM_GO.minor)) return { go: candidate };
    problems.push(version ? `${candidate} is ${version}, too old` : `${candidate} does not run`);
  }
  return { problem: problems.join('; ') };
}

async function findGo(): Promise<string> {
  const found = await locateGo(process.env, GO_FOLDERS);
  if ('go' in found) return found.go;
  throw new Error(`${GO_NEEDED} (${found.problem}): ${GO_INSTALL}`);
}

/** Older builds of the same tool (another go.sum) are dead weight: each is a whole binary. */
/**
 * Removes older builds of the tool, keeping the new one and the newest other one: two checkouts
 * (a branch and main, or two worktrees) then share the cache without rebuilding each other's away.
 */
async function pruneOtherBuilds(tool: GoTool, keep: string): Promise<void> {
  const binDir = dirname(keep);
  const others = [];
  for (const entry of await readdir(binDir)) {
    const path = join(binDir, entry);
    if (entry.startsWith(`${tool}-`) && path !== keep) others.push({ path, modified: (await stat(path)).mtimeMs });
  }
  others.sort((a, b) => b.modified - a.modified);
  for (const { path } of others.slice(1)) await rm(path, { recursive: true, force: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureGoBinary, PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { kubectl } from '../../harness/stack/kubectl.ts';

/** Helpers for the deploy tests: render deploy/ with the real kustomize (kubectl) and helm, read the results. */

export const DEPLOY_DIR = join(PROJECT_ROOT, 'deploy');
export const KUSTOMIZE_BASE = join(DEPLOY_DIR, 'kustomize/base');
export const KUSTOMIZE_EXAMPLE = join(DEPLOY_DIR, 'kustomize/overlays/example');
export const CHART_DIR = join(DEPLOY_DIR, 'helm/ses-operator');
/** The namespace the kustomize base installs into (helm renders into the same one in these tests). */
export const OPERATOR_NAMESPACE = 'ses-operator';

/** A Kubernetes object as rendered: enough typing for the tests to navigate it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** Every object of a multi-document YAML stream (empty documents skipped). */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((object): object is Manifest => object !== null && typeof object === 'object');
}

/** The one object of a kind (and name, if given); fails when there is none or several. */
export function findOne(objects: Manifest[], kind: string, name?: string): Manifest {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0]!;
}

/** `kind/name` of each object, the way `kubectl apply` reports them (lower-case kind, API group for non-core kinds). */
export function objectIds(objects: Manifest[]): string[] {
  return objects.map((o) => {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}/${o.metadata.name}`;
  });
}

/** `kubectl kustomize <dir>`: the real kustomize that `kubectl apply -k` uses. */
export async function kustomize(dir: string): Promise<Manifest[]> {
  const { stdout } = await kubectl(inject('stack').kubeconfig, ['kustomize', dir]);
  return parseManifests(stdout);
}

/**
 * Runs the real helm (built once from tools/helm, cached like the control plane). Its config,
 * cache and data go to a private folder, never into the user's ~/.config/helm.
 */
export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const binary = await ensureGoBinary('helm');
  const home = await mkdtemp(join(tmpdir(), 'ses-operator-helm-'));
  try {
    return await new Promise((resolve, reject) => {
      execFile(
        binary,
        args,
        {
          timeout: 120_000,
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, HELM_CONFIG_HOME: join(home, 'config'), HELM_CACHE_HOME: join(home, 'cache'), HELM_DATA_HOME: join(home, 'data') },
        },
        (error, stdout, stderr) => {
          if (error) reject(Object.assign(new Error(`helm ${args.join(' ')} failed: ${stderr.trim() || error.message}`), { stdout, stderr }));
          else resolve({ stdout, stderr });
        },
      );
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** `helm template` of the chart as release "ses-operator" in OPERATOR_NAMESPACE, with --set-json values. */
export async function helmTemplate(values: Record<string, unknown> = {}): Promise<{ text: string; objects: Manifest[] }> {
  const sets = Object.entries(values).flatMap(([key, value]) => ['--set-json', `${key}=${JSON.stringify(value)}`]);
  const { stdout } = await helm(['template', 'ses-operator', CHART_DIR, '--namespace', OPERATOR_NAMESPACE, ...sets]);
  return { text: stdout, objects: parseManifests(stdout) };
}

/** The Deployment's pod template and its one container. */
export function podOf(deployment: Manifest): {
  spec: Record<string, unknown>;
  container: Record<string, unknown> & { args: string[]; env: { name: string; value?: string }[] };
} {
  const spec = (deployment.spec as { template: { spec: Record<string, unknown> & { containers: unknown[] } } }).template.spec;
  return { spec, container: spec.containers[0] as Record<string, unknown> & { args: string[]; env: { name: string; value?: string }[] } };
}

/** `run` flags as name -> values (`--leader-elect` alone -> ['']). */
export function flagsOf(args: string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (const arg of args.slice(1)) {
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new Error(`argument "${arg}" is not --flag or --flag=value`);
    flags.set(match[1]!, [...(flags.get(match[1]!) ?? []), match[2] ?? '']);
  }
  return flags;
}

/**
 * Deletes a namespace whose content the test already removed, at once. The local stack runs no
 * kube-controller-manager, so nothing would empty and finalize a deleted namespace: it would stay
 * Terminating for ever and refuse the next test file's objects. This does that controller's last step.
 */
export async function deleteNamespaceNow(name: string): Promise<void> {
  const kubeconfig = inject('stack').kubeconfig;
  await kubectl(kubeconfig, ['delete', 'namespace', name, '--ignore-not-found', '--wait=false']);
  const { stdout } = await kubectl(kubeconfig, ['get', 'namespace', name, '-o', 'json']).catch(() => ({ stdout: '' }));
  if (!stdout) return;
  const namespace = JSON.parse(stdout) as { spec?: { finalizers?: string[] } };
  namespace.spec = { ...namespace.spec, finalizers: [] };
  await kubectl(kubeconfig, ['replace', '--raw', `/api/v1/namespaces/${name}/finalize`, '-f', '-'], { input: JSON.stringify(namespace) });
}

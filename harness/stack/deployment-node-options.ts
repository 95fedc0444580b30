import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { instructions, parseDockerfile, stageEnv } from './dockerfile.ts';
import { PROJECT_ROOT } from './go-binaries.ts';

/**
 * The V8 flags the shipped Deployment gives the operator (NODE_OPTIONS in the kustomize base, the
 * Helm chart's `nodeOptions` carries the same): local runs that measure the operator use them too.
 */
export function deploymentNodeOptions(): string[] {
  const deployment = parse(readFileSync(join(PROJECT_ROOT, 'deploy/kustomize/base/deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } } };
  };
  const env = deployment.spec.template.spec.containers.find((c) => c.name === 'operator')?.env ?? [];
  const value = env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  return value.split(/\s+/).filter(Boolean);
}

/**
 * How the operator image starts node (deploy/Dockerfile's final stage): the node flags of its
 * ENTRYPOINT (between `node` and the script) and its environment (ENV).
 */
export function imageRuntime(): { nodeFlags: string[]; env: Record<string, string> } {
  const final = parseDockerfile(readFileSync(join(PROJECT_ROOT, 'deploy/Dockerfile'), 'utf8')).at(-1)!;
  const entrypoint = JSON.parse(instructions(final, 'ENTRYPOINT').at(-1) ?? '[]') as string[];
  const script = entrypoint.findIndex((arg, i) => i > 0 && !arg.startsWith('-'));
  return { nodeFlags: entrypoint[0] === 'node' && script > 0 ? entrypoint.slice(1, script) : [], env: stageEnv(final) };
}

/** The operator as deployed: the image's node flags and environment, then the Deployment's NODE_OPTIONS. */
export function deployedOperatorRuntime(): { nodeArgs: string[]; env: Record<string, string> } {
  const image = imageRuntime();
  return { nodeArgs: [...image.nodeFlags, ...deploymentNodeOptions()], env: image.env };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
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

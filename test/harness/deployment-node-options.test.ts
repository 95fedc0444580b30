import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { deploymentNodeOptions } from '../../harness/stack/deployment-node-options.ts';

/** Resident memory of the operator beyond its old space: code and native memory (bench/RESULTS.md). */
const BASELINE_MB = 80;

describe('the V8 heap flags the operator is deployed with', () => {
  it('are the same in the kustomize base and the Helm chart, and fit the memory limit', () => {
    const flags = deploymentNodeOptions();
    expect(flags).toContain('--max-semi-space-size=4');
    const values = parse(readFileSync(join(PROJECT_ROOT, 'deploy/helm/ses-operator/values.yaml'), 'utf8')) as {
      nodeOptions: string;
      resources: { limits: { memory: string } };
    };
    expect(values.nodeOptions.split(/\s+/)).toEqual(flags);
    // Old space plus the baseline must stay under the container's limit.
    const oldSpaceMb = Number(/--max-old-space-size=(\d+)/.exec(flags.join(' '))![1]);
    const limitMi = Number(/^(\d+)Mi$/.exec(values.resources.limits.memory)![1]);
    expect(oldSpaceMb + BASELINE_MB).toBeLessThan(limitMi);
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { deployedOperatorRuntime, deploymentNodeOptions, imageRuntime } from '../../harness/stack/deployment-node-options.ts';
import { parseDockerfile, stageEnv } from '../../harness/stack/dockerfile.ts';

/** Resident memory of the operator beyond its old space: code and native memory (bench/RESULTS.md). */
const BASELINE_MB = 80;

describe('the V8 heap flags the operator is deployed with', () => {
  it('are the same in the kustomize base and the Helm chart, and fit the memory limit', () => {
    const flags = deploymentNodeOptions();
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

  it('set no young generation size: under the image flags V8 keeps it at 1 MB whatever the flag says', () => {
    const newSpaceMb = (nodeArgs: string[]) =>
      Number(
        execFileSync(
          process.execPath,
          [...nodeArgs, '-p', "require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20"],
          {
            encoding: 'utf8',
          },
        ),
      );
    const { nodeFlags } = imageRuntime();
    expect(newSpaceMb(['--max-semi-space-size=4', '--min-semi-space-size=4'])).toBe(4);
    expect(newSpaceMb([...nodeFlags, '--max-semi-space-size=4', '--min-semi-space-size=4'])).toBe(1);
    expect(deploymentNodeOptions().filter((flag) => /semi-space/.test(flag))).toEqual([]);
  });
});

describe("the image's node flags and environment", () => {
  it('reads the ENTRYPOINT node flags and the final stage ENV of a Dockerfile', () => {
    const stages = parseDockerfile(
      [
        'FROM node:24 AS build',
        'ENV BUILD_ONLY=1',
        'FROM node:24-slim',
        'ENV NODE_ENV=production A="with space" \\',
        '    B=2',
        'ENV LEGACY value with words',
        'ENTRYPOINT ["node", "--optimize-for-size", "dist/cli/main.js"]',
      ].join('\n'),
    );
    expect(stages.map((stage) => stage.name)).toEqual(['build', undefined]);
    expect(stageEnv(stages[1]!)).toEqual({ NODE_ENV: 'production', A: 'with space', B: '2', LEGACY: 'value with words' });
  });

  it('starts the operator the way deploy/Dockerfile does: node, its flags, then the script', () => {
    const { nodeFlags, env } = imageRuntime();
    const entrypoint = readFileSync(join(PROJECT_ROOT, 'deploy/Dockerfile'), 'utf8').match(/^ENTRYPOINT (.*)$/m)![1]!;
    expect(JSON.parse(entrypoint)).toEqual(['node', ...nodeFlags, 'dist/cli/main.js']);
    expect(env.NODE_ENV).toBe('production');
    const deployed = deployedOperatorRuntime();
    expect(deployed.nodeArgs).toEqual([...nodeFlags, ...deploymentNodeOptions()]);
    expect(deployed.env).toEqual(env);
  });
});

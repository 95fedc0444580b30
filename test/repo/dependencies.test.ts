import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';

interface LockEntry {
  version?: string;
  integrity?: string;
  resolved?: string;
  dev?: boolean;
  devOptional?: boolean;
  link?: boolean;
}

/** Supply chain: few production dependencies, each pinned exactly, everything shipped pinned by hash in the lockfile. */
describe('production dependencies', () => {
  it('are the six the README lists, pinned to exact versions that the lockfile resolves, with an integrity hash for every package shipped', async () => {
    const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const lock = JSON.parse(await readFile(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
      lockfileVersion: number;
      packages: Record<string, LockEntry & { dependencies?: Record<string, string> }>;
    };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@aws-sdk/client-sesv2', '@kubernetes/client-node', 'pino', 'prom-client', 'yaml', 'zod']);
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    expect(lock.packages['']!.dependencies).toEqual(pkg.dependencies);
    for (const [name, version] of Object.entries(pkg.dependencies)) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/); // no ^, ~, ranges or tags
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
    }
    const shipped = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && !entry.dev && !entry.devOptional && !entry.link);
    expect(shipped.length).toBeGreaterThan(0);
    for (const [path, entry] of shipped) {
      expect(entry.integrity, path).toMatch(/^sha512-/);
      expect(entry.version, path).toMatch(/^\d+\.\d+\.\d+/);
    }
  });
});

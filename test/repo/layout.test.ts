import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';

async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => join(entry.parentPath, entry.name));
}

describe('layout', () => {
  it('the product (src/) imports nothing from the harness, tests or benchmarks', async () => {
    const src = join(PROJECT_ROOT, 'src');
    const outside: string[] = [];
    for (const file of await tsFiles(src)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = resolve(dirname(file), match[1]!);
        if (relative(src, target).startsWith('..')) outside.push(`${relative(PROJECT_ROOT, file)} -> ${relative(PROJECT_ROOT, target)}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('the build compiles only src/', async () => {
    const build = JSON.parse(await readFile(join(PROJECT_ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[]; compilerOptions: { rootDir: string } };
    expect(build.include).toEqual(['src']);
    expect(build.compilerOptions.rootDir).toBe('src');
  });
});

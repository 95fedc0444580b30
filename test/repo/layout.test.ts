import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';

async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => join(entry.parentPath, entry.name));
}

/** Every relative import of the .ts files under `dir`, as "file -> target" (both relative to the project). */
async function relativeImports(dir: string): Promise<{ file: string; target: string }[]> {
  const found: { file: string; target: string }[] = [];
  for (const file of await tsFiles(join(PROJECT_ROOT, dir))) {
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      found.push({ file: relative(PROJECT_ROOT, file), target: relative(PROJECT_ROOT, resolve(dirname(file), match[1]!)) });
    }
  }
  return found;
}

/** The imports of `dir` whose target lies outside `allowed` folders, as "file -> target". */
async function importsOutside(dir: string, allowed: string[]): Promise<string[]> {
  return (await relativeImports(dir))
    .filter(({ target }) => !allowed.some((folder) => target.startsWith(`${folder}/`)))
    .map(({ file, target }) => `${file} -> ${target}`);
}

describe('layout', () => {
  it('the product (src/) imports nothing from the harness, tests or benchmarks', async () => {
    expect(await importsOutside('src', ['src'])).toEqual([]);
  });

  it('the harness imports only the product, and the benchmarks only the product and the harness: neither the tests', async () => {
    expect(await importsOutside('harness', ['harness', 'src'])).toEqual([]);
    expect(await importsOutside('bench', ['bench', 'harness', 'src'])).toEqual([]);
  });

  it('the build compiles only src/', async () => {
    const build = JSON.parse(await readFile(join(PROJECT_ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[]; compilerOptions: { rootDir: string } };
    expect(build.include).toEqual(['src']);
    expect(build.compilerOptions.rootDir).toBe('src');
  });
});

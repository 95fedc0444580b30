import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** tools/<tool>/patches.json: exact text replacements in one dependency's source, each with its reason. */
interface PatchSet {
  module: string;
  patches: { file: string; find: string; replace: string; why: string }[];
}

export const PATCHES_FILE = 'patches.json';

/**
 * When a wrapper module carries patches.json, builds happen in a temporary copy of the wrapper
 * whose go.mod replaces the dependency with a patched copy of the version go.mod requires (Go's
 * -overlay refuses files in the module cache). Returns undefined for wrappers without patches.
 * A find text that no longer occurs exactly once fails the build: the dependency changed.
 */
export async function patchedWrapper(go: string, moduleDir: string): Promise<{ dir: string; remove(): Promise<void> } | undefined> {
  let set: PatchSet;
  try {
    set = JSON.parse(await readFile(join(moduleDir, PATCHES_FILE), 'utf8')) as PatchSet;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const { stdout } = await run(go, ['mod', 'download', '-json', set.module], { cwd: moduleDir, maxBuffer: 16 * 1024 * 1024 });
  const { Dir: sourceDir, Version: version } = JSON.parse(stdout) as { Dir: string; Version: string };
  const root = await mkdtemp(join(tmpdir(), 'ses-operator-go-patched-'));
  const remove = () => rm(root, { recursive: true, force: true });
  try {
    const source = join(root, 'source');
    await cp(sourceDir, source, { recursive: true });
    await run('chmod', ['-R', 'u+w', source]); // module cache files and folders are read-only
    for (const patch of set.patches) {
      const path = join(source, patch.file);
      const text = await readFile(path, 'utf8');
      const count = text.split(patch.find).length - 1;
      if (count !== 1) throw new Error(`patch for ${set.module}@${version} ${patch.file} does not apply (its text occurs ${count} times): ${patch.why}`);
      await writeFile(
        path,
        text.replace(patch.find, () => patch.replace),
      );
    }
    const wrapper = join(root, 'wrapper');
    await cp(moduleDir, wrapper, { recursive: true });
    await appendFile(join(wrapper, 'go.mod'), `\n// Added at build time by harness/stack/go-patches.ts.\nreplace ${set.module} => ${source}\n`);
    return { dir: wrapper, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

// `node deploy/sync-crds.ts`: copies the generated CRDs (crds/*.yaml) to where the deploy
// packages can read them: kustomize refuses files outside its folder and a Helm chart can only
// read its own files. `--check` exits 1 when a copy differs (the deploy tests assert the same).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CRD_SOURCE_DIR = join(ROOT, 'crds');
export const CRD_COPY_DIRS = [join(ROOT, 'deploy/kustomize/base/crds'), join(ROOT, 'deploy/helm/ses-operator/files/crds')];

/** Each copy that is missing, differs from crds/ or has no source there, as "path: reason". */
export async function staleCrdCopies(): Promise<string[]> {
  const files = await crdFiles(CRD_SOURCE_DIR);
  const stale: string[] = [];
  for (const dir of CRD_COPY_DIRS) {
    for (const file of files) {
      const source = await readFile(join(CRD_SOURCE_DIR, file), 'utf8');
      const copy = await readFile(join(dir, file), 'utf8').catch(() => undefined);
      if (copy !== source) stale.push(`${join(dir, file)}: ${copy === undefined ? 'missing' : 'differs from crds/'}`);
    }
    for (const file of await crdFiles(dir)) if (!files.includes(file)) stale.push(`${join(dir, file)}: not in crds/`);
  }
  return stale;
}

async function crdFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((file) => file.endsWith('.yaml')).sort();
}

async function sync(): Promise<void> {
  const files = await crdFiles(CRD_SOURCE_DIR);
  for (const dir of CRD_COPY_DIRS) {
    for (const file of files) await writeFile(join(dir, file), await readFile(join(CRD_SOURCE_DIR, file), 'utf8'));
    // A CRD dropped from crds/ is dropped from the copies too (kustomization.yaml lists its files by name).
    for (const file of await crdFiles(dir)) if (!files.includes(file)) await rm(join(dir, file));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = await staleCrdCopies();
    for (const line of stale) process.stderr.write(`${line}\n`);
    process.exit(stale.length > 0 ? 1 : 0);
  }
  await sync();
}

import { execFile } from 'node:child_process';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../harness/stack/go-binaries.ts';

/**
 * Compiles the operator the way the image does (`tsc -p tsconfig.build.json`, run as
 * `node dist/cli/main.js`), into a folder of its own under the project so node_modules resolve:
 * the figures are those of what gets deployed, without the cost of type stripping at run time.
 */
export async function buildOperator(): Promise<{ main: string; remove(): Promise<void> }> {
  const outDir = join(PROJECT_ROOT, 'bench-results', `.dist-${process.pid}`);
  const tsc = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc');
  await new Promise<void>((resolve, reject) => {
    execFile(tsc, ['-p', join(PROJECT_ROOT, 'tsconfig.build.json'), '--outDir', outDir], { cwd: PROJECT_ROOT, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`building the operator failed: ${stdout}${stderr}`));
      else resolve();
    });
  });
  return {
    main: join(outDir, 'cli', 'main.js'),
    async remove() {
      await rm(outDir, { recursive: true, force: true });
      // An empty bench-results/ left behind by a CI run would be a top-level folder the README does not list.
      await rmdir(dirname(outDir)).catch(() => {});
    },
  };
}

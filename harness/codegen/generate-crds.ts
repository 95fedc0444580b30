// `npm run generate:crds`: writes crds/*.yaml from the zod schemas (see crds.ts); the script then copies them into deploy/ (deploy/sync-crds.ts).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../stack/go-binaries.ts';
import { renderCrdFiles } from './crd-files.ts';

for (const [file, text] of Object.entries(renderCrdFiles())) {
  await writeFile(join(PROJECT_ROOT, 'crds', file), text);
  process.stdout.write(`wrote crds/${file}\n`);
}

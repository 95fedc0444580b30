import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsTable } from '../../src/cli/settings-docs.ts';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';

describe('README', () => {
  it('lists every setting exactly as the operator defines it', async () => {
    const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const table = /<!-- settings:start[^>]*-->\n([\s\S]*?)\n<!-- settings:end -->/.exec(readme)?.[1];
    expect(table).toBe(settingsTable());
  });

  it('names the scripts package.json defines for a newcomer', async () => {
    const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const command of ['npm ci', 'npm test', 'npm run demo', 'npm run stack', 'npm run ses-simulator', 'bash .ci/run']) expect(readme).toContain(command);
  });
});

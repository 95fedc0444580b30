import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsTable } from '../../src/cli/settings-docs.ts';
import { PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';

const readme = () => readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');

/** The text between `<!-- name:start ... -->` and `<!-- name:end -->`. */
function block(text: string, name: string): string | undefined {
  return new RegExp(`<!-- ${name}:start[^>]*-->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(text)?.[1];
}

/** Every Markdown file of the repository: the README, docs/, and the READMEs and results beside the code. */
async function documents(): Promise<string[]> {
  const skipped = /(^|\/)(node_modules|dist|\.git|\.cache)(\/|$)/;
  const entries = await readdir(PROJECT_ROOT, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !skipped.test(relative(PROJECT_ROOT, file)));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

async function anchorsIn(file: string): Promise<Set<string>> {
  const text = await readFile(file, 'utf8');
  return new Set([...text.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1]!)));
}

/** Markdown links [text](target) outside code blocks and code spans, that are not web or mail addresses. */
function localLinks(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '``');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('README', () => {
  it('lists every setting exactly as the operator defines it', async () => {
    expect(block(await readme(), 'settings')).toBe(settingsTable());
  });

  it('names the scripts package.json defines for a newcomer', async () => {
    const text = await readme();
    for (const command of ['npm ci', 'npm test', 'npm run demo', 'npm run stack', 'npm run ses-simulator', 'bash .ci/run']) expect(text).toContain(command);
  });

  it('starts with exactly two command lines: one runs the demo, one runs the tests as CI does', async () => {
    const quickStart = block(await readme(), 'quickstart');
    expect(quickStart).toBeDefined();
    const lines = quickStart!
      .replace(/^```\w*$/gm, '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
    // The test line is what CI runs.
    const ci = await readFile(join(PROJECT_ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm test\b/m);
  });

  it('has a layout table whose paths exist, listing every top-level folder', async () => {
    const table = block(await readme(), 'layout');
    expect(table).toBeDefined();
    const paths = [...table!.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
    for (const path of paths) expect((await stat(join(PROJECT_ROOT, path))).isDirectory(), path).toBe(true);
    // What git ignores at the top level (.gitignore's plain folder names: node_modules/, bench-results/, ...) is no part of the layout.
    const gitignored = (await readFile(join(PROJECT_ROOT, '.gitignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim().replace(/\/$/, ''))
      .filter((line) => /^[\w.-]+$/.test(line));
    const ignored = new Set(['.git', ...gitignored]);
    const folders = (await readdir(PROJECT_ROOT, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && !ignored.has(entry.name))
      .map((entry) => `${entry.name}/`);
    expect(folders.filter((folder) => !paths.includes(folder))).toEqual([]);
  });
});

describe('README, docs/ and every other Markdown file stand on their own', () => {
  it('link only to files inside the repository that exist, and to headings that exist', async () => {
    const broken: string[] = [];
    for (const file of await documents()) {
      const from = relative(PROJECT_ROOT, file);
      for (const link of localLinks(await readFile(file, 'utf8'))) {
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? file : resolve(dirname(file), path);
        if (relative(PROJECT_ROOT, target).startsWith('..')) {
          broken.push(`${from}: ${link} points outside the repository`);
          continue;
        }
        const found = await stat(target).catch(() => undefined);
        if (!found) broken.push(`${from}: ${link} does not exist`);
        else if (anchor && found.isFile() && target.endsWith('.md') && !(await anchorsIn(target)).has(anchor))
          broken.push(`${from}: ${link} names no heading of ${relative(PROJECT_ROOT, target)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('speak of no document a reader of the repository does not have', async () => {
    const outside: string[] = [];
    for (const file of await documents()) {
      const text = await readFile(file, 'utf8');
      for (const phrase of [/\.\.\/shared/, /\bseed\b/i, /\bAPI\.md\b/, /the issue'?s? goals?/i])
        if (phrase.test(text)) outside.push(`${relative(PROJECT_ROOT, file)}: ${phrase}`);
    }
    expect(outside).toEqual([]);
  });
});

import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** The folders searched for a command: PATH, plus the sbin folders Debian keeps daemons in. */
export function commandFolders(path = process.env.PATH ?? ''): string[] {
  return [...path.split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
}

/** The first executable called `name` in `folders`, or undefined. */
export async function findCommand(name: string, folders = commandFolders()): Promise<string | undefined> {
  for (const folder of folders.filter(Boolean)) {
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Finds an executable on PATH (plus the sbin folders), or fails saying how to get it. */
export async function requireCommand(name: string, howToInstall: string): Promise<string> {
  const found = await findCommand(name);
  if (!found) throw new Error(`'${name}' was not found on PATH. ${howToInstall}`);
  return found;
}

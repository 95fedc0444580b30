import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Finds an executable on PATH (plus the sbin folders Debian keeps daemons in), or fails saying how to get it. */
export async function requireCommand(name: string, howToInstall: string): Promise<string> {
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const folder of folders.filter(Boolean)) {
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new Error(`'${name}' was not found on PATH. ${howToInstall}`);
}

// The tools the local stack needs from the machine, checked before any long build starts: as
// root with apt-get, the missing Debian packages are installed; otherwise one message lists
// every missing tool with the command that installs it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { commandFolders, findCommand } from './commands.ts';
import { cachedGoBinary, GO_FOLDERS, GO_INSTALL, GO_NEEDED, locateGo, type GoTool } from './go-binaries.ts';

const run = promisify(execFile);

/** A command the stack runs that comes from a Debian package. */
interface DebianTool {
  command: string;
  debianPackage: string;
  why: string;
}

export const DEBIAN_TOOLS: readonly DebianTool[] = [
  { command: 'named', debianPackage: 'bind9', why: 'the local DNS server (BIND)' },
  { command: 'nsupdate', debianPackage: 'bind9-dnsutils', why: 'publishes records in the local DNS server' },
];

export interface MissingTool {
  command: string;
  why: string;
  install: string;
}

/** What the check looks at; tests pass a fake one (a PATH of their own, another uid). */
export interface Machine {
  /** Folders searched for commands (PATH plus the sbin folders). */
  folders: string[];
  /** The environment Go is looked up in (GO, PATH) and apt-get runs with. */
  env: NodeJS.ProcessEnv;
  /** Where Go is looked for besides PATH. */
  goFolders: string[];
  uid: number | undefined;
}

export function thisMachine(): Machine {
  return { folders: commandFolders(), env: process.env, goFolders: GO_FOLDERS, uid: process.getuid?.() };
}

export interface PrerequisiteOptions {
  /** The Go-built tools this command needs: Go itself is needed only while one of them is not cached. */
  goTools: readonly GoTool[];
  log?: (line: string) => void;
  machine?: Machine;
}

/**
 * Makes sure everything the command needs is there before it starts a build or a process:
 * installs missing Debian packages when it can (root and apt-get), and otherwise rejects with one
 * message that names every missing tool and how to install it.
 */
export async function ensurePrerequisites(options: PrerequisiteOptions): Promise<void> {
  const machine = options.machine ?? thisMachine();
  const log = options.log ?? (() => {});
  let missing = await missingTools(machine, options.goTools);
  const packages = debianPackagesFor(missing);
  const aptGet = await findCommand('apt-get', machine.folders);
  if (packages.length > 0 && machine.uid === 0 && aptGet) {
    log(`installing ${packages.join(' ')} with apt-get (first run only) ...`);
    await installDebianPackages(aptGet, packages, machine.env);
    missing = await missingTools(machine, options.goTools);
  }
  if (missing.length > 0) throw new Error(prerequisitesMessage(missing));
}

/** Every tool that is not there, in a stable order: the Debian tools, then Go. */
export async function missingTools(machine: Machine, goTools: readonly GoTool[]): Promise<MissingTool[]> {
  const missing: MissingTool[] = [];
  for (const tool of DEBIAN_TOOLS) {
    if (!(await findCommand(tool.command, machine.folders))) {
      missing.push({ command: tool.command, why: tool.why, install: `apt-get install ${tool.debianPackage}` });
    }
  }
  const uncached = (await Promise.all(goTools.map(async (tool) => ((await cachedGoBinary(tool)) ? undefined : tool)))).filter(Boolean);
  if (uncached.length > 0) {
    const go = await locateGo(machine.env, machine.goFolders);
    if ('problem' in go) missing.push({ command: 'go', why: `${GO_NEEDED} (to build ${uncached.join(', ')}); ${go.problem}`, install: GO_INSTALL });
  }
  return missing;
}

/** One message for everything that is missing, each with the command that installs it. */
export function prerequisitesMessage(missing: readonly MissingTool[]): string {
  const lines = missing.map((tool) => `  - ${tool.command}: ${tool.why}\n      install: ${tool.install}`);
  const packages = debianPackagesFor(missing);
  const all = packages.length > 0 ? `\nAll Debian packages at once: sudo apt-get install ${packages.join(' ')} (or run this command as root).` : '';
  return `Missing before the local stack can start:\n${lines.join('\n')}${all}`;
}

function debianPackagesFor(missing: readonly MissingTool[]): string[] {
  const commands = new Set(missing.map((tool) => tool.command));
  return [...new Set(DEBIAN_TOOLS.filter((tool) => commands.has(tool.command)).map((tool) => tool.debianPackage))];
}

/** apt-get update once, then a quiet non-interactive install of exactly these packages. */
async function installDebianPackages(aptGet: string, packages: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const options = { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 16 * 1024 * 1024 };
  try {
    await run(aptGet, ['update', '-qq'], options);
    await run(aptGet, ['install', '-y', '-qq', '--no-install-recommends', ...packages], options);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`apt-get could not install ${packages.join(' ')}: ${stderr || String(error)}`);
  }
}

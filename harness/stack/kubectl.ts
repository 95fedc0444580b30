import { execFile } from 'node:child_process';
import { ensureGoBinary } from './go-binaries.ts';

let built: Promise<string> | undefined;

/**
 * The kubectl the harness runs: $KUBECTL if set, else kubectl built from tools/kubectl (the same
 * Kubernetes version as the local kube-apiserver, so no version skew and no other package source).
 * The build happens once per machine (cached) and is looked up once per process.
 */
export function findKubectl(log?: (line: string) => void): Promise<string> {
  if (process.env.KUBECTL) return Promise.resolve(process.env.KUBECTL);
  built ??= ensureGoBinary('kubectl', log).catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/** Runs kubectl against a kubeconfig; rejects with kubectl's own stderr when it fails. */
export async function kubectl(
  kubeconfig: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const binary = await findKubectl();
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || error.message}`), { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

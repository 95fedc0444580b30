import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';

/**
 * kubectl within the supported skew of kube-apiserver 1.34: $KUBECTL if set, else the 1.33 build the
 * Google Cloud CLI package ships beside its default kubectl, else `kubectl` on PATH.
 */
export async function findKubectl(): Promise<string> {
  const candidates = [process.env.KUBECTL, '/usr/lib/google-cloud-sdk/bin/kubectl.1.33', '/usr/bin/kubectl.1.33'];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return 'kubectl';
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

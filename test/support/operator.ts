import { join } from 'node:path';
import { inject } from 'vitest';
import { startLocalOperator, TEST_TUNING_FLAGS, type RunningOperator } from '../../harness/stack/local-operator.ts';

export type OperatorProcess = RunningOperator;

/**
 * Starts `ses-operator run` as a real child process against the shared local stack and waits
 * until it logs `waitFor` ("running": caches synced). A separate process, so tests can SIGKILL it.
 */
export async function startOperator(extraArgs: string[] = [], env: Record<string, string> = {}, options: { waitFor?: string } = {}): Promise<OperatorProcess> {
  const stack = inject('stack');
  const operator = await startLocalOperator({
    stack,
    logFile: join(stack.kubeconfig, '..', `operator-${process.pid}-${Date.now()}.log`),
    // The shipped ServiceAccount's RBAC, not the admin identity (see global-setup.ts).
    args: ['--kubeconfig', stack.operatorKubeconfig, ...TEST_TUNING_FLAGS, ...extraArgs],
    env,
  });
  await operator.waitForLog(options.waitFor ?? 'running');
  return operator;
}

import { join } from 'node:path';
import { KubeClient } from '../../harness/stack/kube-client.ts';
import { SimClient } from '../../harness/stack/sim-client.ts';
import type { LocalStack, StackEndpoints } from '../../harness/stack/stack.ts';

/** Every Kubernetes call of a scenario rides out a kube-apiserver restart: retried this long. */
const KUBE_RETRY_MS = 60_000;

/** Everything a fault scenario needs from the local stack. */
export interface FaultEnv extends StackEndpoints {
  /** Where operator logs and other scratch files go. */
  readonly workDir: string;
  readonly sim: SimClient;
  readonly kube: KubeClient;
  /** Kills kube-apiserver and starts it again on the same etcd data; only when the scenario owns the stack. */
  readonly restartApiserver?: () => Promise<void>;
  /** The kubeconfig's bearer token: the security check looks for it in logs, events and status. */
  readonly bearerToken?: string;
}

/** A stack this process started (npm run test:faults, or the restart scenario in CI): it can restart kube-apiserver. */
export function envFromLocalStack(stack: LocalStack, workDir = stack.dir): FaultEnv {
  const { kubeconfig, sesEndpoint, dnsServer, region } = stack;
  return {
    kubeconfig,
    sesEndpoint,
    dnsServer,
    region,
    workDir,
    sim: new SimClient(sesEndpoint),
    kube: new KubeClient(kubeconfig, { retryForMs: KUBE_RETRY_MS }),
    restartApiserver: () => stack.controlPlane.restartApiserver(),
    bearerToken: stack.controlPlane.adminToken,
  };
}

/** A stack another process started (vitest's shared stack). */
export function envFromEndpoints(endpoints: StackEndpoints): FaultEnv {
  const kube = new KubeClient(endpoints.kubeconfig, { retryForMs: KUBE_RETRY_MS });
  return {
    ...endpoints,
    workDir: join(endpoints.kubeconfig, '..'),
    sim: new SimClient(endpoints.sesEndpoint),
    kube,
    bearerToken: kube.bearerToken(),
  };
}

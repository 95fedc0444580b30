import { simulatorControl } from '../../harness/simulator/control-client.ts';
import { installCrds } from '../../harness/stack/install-crds.ts';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { join } from 'node:path';
import type { EmailUseCase } from '../../src/api/emailusecase.ts';
import { GROUP, VERSION } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import type { CallsReport } from '../../harness/simulator/call-log.ts';
import type { Faults } from '../../harness/simulator/faults.ts';
import type { StateSnapshot } from '../../harness/simulator/state.ts';
import { kubectl } from '../../harness/stack/kubectl.ts';
import type { LocalStack, StackEndpoints } from '../../harness/stack/stack.ts';

/** The SES simulator's control interface, the same whether it runs in this process or behind HTTP. */
export interface SimControl {
  calls(sinceSeq?: number): Promise<CallsReport>;
  state(): Promise<StateSnapshot>;
  setFaults(faults: Partial<Faults>): Promise<Faults>;
  checkDkimNow(): Promise<void>;
}

/** Everything a fault scenario needs from the local stack. */
export interface FaultEnv extends StackEndpoints {
  /** Where operator logs and other scratch files go. */
  readonly workDir: string;
  readonly sim: SimControl;
  readonly kube: Kube;
  /** Kills kube-apiserver and starts it again on the same etcd data; only when the scenario owns the stack. */
  readonly restartApiserver?: () => Promise<void>;
  /** The kubeconfig's bearer token: the security check looks for it in logs, events and status. */
  readonly bearerToken?: string;
}

/** A stack this process started (npm run test:faults, or the restart scenario in CI): in-process simulator control. */
export function envFromLocalStack(stack: LocalStack, workDir = stack.dir): FaultEnv {
  const { kubeconfig, sesEndpoint, dnsServer, region } = stack;
  return {
    kubeconfig,
    sesEndpoint,
    dnsServer,
    region,
    workDir,
    sim: {
      calls: async (since) => stack.ses.calls(since),
      state: async () => stack.ses.state(),
      setFaults: async (faults) => stack.ses.setFaults(faults),
      checkDkimNow: () => stack.ses.checkDkimNow(),
    },
    kube: new Kube(kubeconfig),
    restartApiserver: () => stack.controlPlane.restartApiserver(),
    bearerToken: stack.controlPlane.adminToken,
  };
}

/** A stack another process started (vitest's shared stack): simulator control over its HTTP interface. */
export function envFromEndpoints(endpoints: StackEndpoints): FaultEnv {
  const sim = <T>(path: string, init?: { method: string; body?: unknown }) => simulatorControl<T>(endpoints.sesEndpoint, path, init);
  const kube = new Kube(endpoints.kubeconfig);
  return {
    ...endpoints,
    workDir: join(endpoints.kubeconfig, '..'),
    sim: {
      calls: (since) => sim<CallsReport>(since ? `calls?since=${since}` : 'calls'),
      state: () => sim<StateSnapshot>('state'),
      setFaults: (faults) => sim<Faults>('faults', { method: 'PUT', body: faults }),
      checkDkimNow: async () => void (await sim<unknown>('dkim-check', { method: 'POST' })),
    },
    kube,
    bearerToken: kube.bearerToken(),
  };
}

const setupRef = { group: GROUP, version: VERSION, plural: 'sessetups' };
const useCaseRef = { group: GROUP, version: VERSION, plural: 'emailusecases' };

function codeOf(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

/**
 * Kubernetes calls the scenarios make. Every call retries transient failures (connection refused
 * while kube-apiserver restarts, 5xx, 429) for up to `retryMs`, so a restart never fails a scenario step.
 */
export class Kube {
  readonly kubeconfig: string;
  readonly kc: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  retryMs = 60_000;

  constructor(kubeconfig: string) {
    this.kubeconfig = kubeconfig;
    this.kc = new KubeConfig();
    this.kc.loadFromFile(kubeconfig);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
    this.core = this.kc.makeApiClient(CoreV1Api);
  }

  bearerToken(): string | undefined {
    return this.kc.getCurrentUser()?.token;
  }

  /** Retries while the API server is unreachable or overloaded; other errors go to the caller. */
  async retry<T>(what: string, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const code = codeOf(error);
        const transient = code === undefined || code === 429 || code >= 500;
        if (!transient || Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message ?? String(error)}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * 2 ** attempt)));
      }
    }
  }

  installCrds(): Promise<void> {
    return installCrds(this.kubeconfig);
  }

  createSetup(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Promise<SesSetup> {
    return this.retry(`create SesSetup ${name}`, async () => {
      try {
        return (await this.custom.createClusterCustomObject({
          ...setupRef,
          body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'SesSetup', metadata: { name, ...metadata }, spec },
        })) as SesSetup;
      } catch (error) {
        // A retried create whose first attempt went through.
        if (codeOf(error) === 409) {
          const existing = await this.getSetup(name);
          if (existing) return existing;
        }
        throw error;
      }
    });
  }

  getSetup(name: string): Promise<SesSetup | undefined> {
    return this.retry(`get SesSetup ${name}`, async () => {
      try {
        return (await this.custom.getClusterCustomObject({ ...setupRef, name })) as SesSetup;
      } catch (error) {
        if (codeOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async listSetups(): Promise<SesSetup[]> {
    return this.retry('list SesSetups', async () => ((await this.custom.listClusterCustomObject({ ...setupRef })) as { items: SesSetup[] }).items);
  }

  deleteSetup(name: string): Promise<void> {
    return this.retry(`delete SesSetup ${name}`, async () => {
      await this.custom.deleteClusterCustomObject({ ...setupRef, name }).catch((error: unknown) => {
        if (codeOf(error) !== 404) throw error;
      });
    });
  }

  annotateSetup(name: string, annotations: Record<string, string>): Promise<void> {
    return this.retry(`annotate SesSetup ${name}`, async () => {
      await this.custom.patchClusterCustomObject(
        { ...setupRef, name, body: { metadata: { annotations } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    });
  }

  /** Last resort of a cleanup: drops every finalizer so a stuck object cannot outlive its scenario. */
  stripSetupFinalizers(name: string): Promise<void> {
    return this.retry(`strip finalizers of SesSetup ${name}`, async () => {
      await this.custom
        .patchClusterCustomObject({ ...setupRef, name, body: { metadata: { finalizers: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
        .catch((error: unknown) => {
          if (codeOf(error) !== 404) throw error;
        });
    });
  }

  createUseCase(namespace: string, name: string, spec: Record<string, unknown>): Promise<EmailUseCase> {
    return this.retry(`create EmailUseCase ${namespace}/${name}`, async () => {
      try {
        return (await this.custom.createNamespacedCustomObject({
          ...useCaseRef,
          namespace,
          body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'EmailUseCase', metadata: { name, namespace }, spec },
        })) as EmailUseCase;
      } catch (error) {
        if (codeOf(error) === 409) {
          const existing = await this.getUseCase(namespace, name);
          if (existing) return existing;
        }
        throw error;
      }
    });
  }

  getUseCase(namespace: string, name: string): Promise<EmailUseCase | undefined> {
    return this.retry(`get EmailUseCase ${namespace}/${name}`, async () => {
      try {
        return (await this.custom.getNamespacedCustomObject({ ...useCaseRef, namespace, name })) as EmailUseCase;
      } catch (error) {
        if (codeOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  deleteUseCase(namespace: string, name: string): Promise<void> {
    return this.retry(`delete EmailUseCase ${namespace}/${name}`, async () => {
      await this.custom.deleteNamespacedCustomObject({ ...useCaseRef, namespace, name }).catch((error: unknown) => {
        if (codeOf(error) !== 404) throw error;
      });
    });
  }

  ensureNamespace(name: string): Promise<void> {
    return this.retry(`create namespace ${name}`, async () => {
      await this.core.createNamespace({ body: { metadata: { name } } }).catch((error: unknown) => {
        if (codeOf(error) !== 409) throw error;
      });
    });
  }

  /** Merge-patches a namespace's labels (null removes one). */
  labelNamespace(name: string, labels: Record<string, string | null>): Promise<void> {
    return this.retry(`label namespace ${name}`, async () => {
      await this.core.patchNamespace({ name, body: { metadata: { labels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    });
  }

  /** Merge-patches a SesSetup's spec (null removes a field). */
  patchSetupSpec(name: string, spec: Record<string, unknown>): Promise<void> {
    return this.retry(`patch SesSetup ${name}`, async () => {
      await this.custom.patchClusterCustomObject({ ...setupRef, name, body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    });
  }

  deleteNamespace(name: string): Promise<void> {
    return this.retry(`delete namespace ${name}`, async () => {
      await this.core.deleteNamespace({ name }).catch((error: unknown) => {
        if (codeOf(error) !== 404) throw error;
      });
    });
  }

  /** Every Event in the cluster, as JSON text (for the secret scan). */
  async eventsJson(): Promise<string> {
    const { stdout } = await kubectl(this.kubeconfig, ['get', 'events', '-A', '-o', 'json']);
    return stdout;
  }
}

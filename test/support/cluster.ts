import { simulatorControl } from '../../harness/simulator/control-client.ts';
import { installCrds } from '../../harness/stack/install-crds.ts';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { GROUP, VERSION } from '../../src/api/group.ts';
import type { EmailUseCase } from '../../src/api/emailusecase.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import type { CallsReport } from '../../harness/simulator/call-log.ts';
import type { Faults } from '../../harness/simulator/faults.ts';
import type { StateSnapshot } from '../../harness/simulator/state.ts';
import { kubectl } from '../../harness/stack/kubectl.ts';

/** Clients and helpers for end-to-end tests against the shared local stack. */
export function cluster() {
  const stack = inject('stack');
  const kc = new KubeConfig();
  kc.loadFromFile(stack.kubeconfig);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const setupRef = { group: GROUP, version: VERSION, plural: 'sessetups' };
  const useCaseRef = { group: GROUP, version: VERSION, plural: 'emailusecases' };
  const sim = <T>(path: string, init?: { method: string; body?: unknown }) => simulatorControl<T>(stack.sesEndpoint, path, init);
  return {
    stack,
    kc,
    custom,
    core,
    kubectl: (args: string[], input?: string) => kubectl(stack.kubeconfig, args, { input }),
    installCrds: () => installCrds(stack.kubeconfig),
    async createSetup(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Promise<SesSetup> {
      return (await custom.createClusterCustomObject({
        ...setupRef,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'SesSetup', metadata: { name, ...metadata }, spec },
      })) as SesSetup;
    },
    async getSetup(name: string): Promise<SesSetup | undefined> {
      try {
        return (await custom.getClusterCustomObject({ ...setupRef, name })) as SesSetup;
      } catch (error) {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }
    },
    async deleteSetup(name: string): Promise<void> {
      await custom.deleteClusterCustomObject({ ...setupRef, name }).catch((error: { code?: number }) => {
        if (error.code !== 404) throw error;
      });
    },
    async createUseCase(namespace: string, name: string, spec: Record<string, unknown>): Promise<EmailUseCase> {
      return (await custom.createNamespacedCustomObject({
        ...useCaseRef,
        namespace,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'EmailUseCase', metadata: { name, namespace }, spec },
      })) as EmailUseCase;
    },
    async getUseCase(namespace: string, name: string): Promise<EmailUseCase | undefined> {
      try {
        return (await custom.getNamespacedCustomObject({ ...useCaseRef, namespace, name })) as EmailUseCase;
      } catch (error) {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }
    },
    async deleteUseCase(namespace: string, name: string): Promise<void> {
      await custom.deleteNamespacedCustomObject({ ...useCaseRef, namespace, name }).catch((error: { code?: number }) => {
        if (error.code !== 404) throw error;
      });
    },
    async ensureNamespace(name: string): Promise<void> {
      await core.createNamespace({ body: { metadata: { name } } }).catch((error: { code?: number }) => {
        if (error.code !== 409) throw error;
      });
    },
    simState: () => sim<StateSnapshot>('state'),
    simCalls: () => sim<CallsReport>('calls'),
    simFaults: (faults: Partial<Faults>) => sim<Faults>('faults', { method: 'PUT', body: faults }),
    simDkimCheck: () => sim<unknown>('dkim-check', { method: 'POST' }),
  };
}

export function condition(object: { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined, type: string) {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** A unique lower-case suffix for names in one test run. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

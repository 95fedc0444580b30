import { KubeConfig } from '@kubernetes/client-node';
import type { EmailUseCase } from '../../src/api/emailusecase.ts';
import { API_VERSION, EMAIL_USE_CASE, GROUP, SES_SETUP, VERSION } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import { ApiError, objectPath, requestJson } from '../../src/runtime/kube-http.ts';
import { installCrds } from './install-crds.ts';
import { kubectl } from './kubectl.ts';

type Ref = { group: string; version: string; plural: string };
const SETUPS: Ref = { group: GROUP, version: VERSION, plural: SES_SETUP.plural };
const USE_CASES: Ref = { group: GROUP, version: VERSION, plural: EMAIL_USE_CASE.plural };
const NAMESPACES: Ref = { group: '', version: 'v1', plural: 'namespaces' };
const CONFIG_MAPS: Ref = { group: '', version: 'v1', plural: 'configmaps' };
const MERGE_PATCH = 'application/merge-patch+json';

export interface KubeClientOptions {
  /**
   * How long to retry a call that failed for a passing reason (API server unreachable, 5xx, 429);
   * default 0, no retry. The fault suite restarts kube-apiserver under its own steps and sets it.
   */
  retryForMs?: number;
}

/** A ConfigMap as the API server returns it: data and owners are what tests read. */
export interface ConfigMapObject {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  data?: Record<string, string>;
}

/**
 * The Kubernetes client of the end-to-end tests, the fault suite, the benchmarks and the demo:
 * SesSetups, EmailUseCases, namespaces and ConfigMaps on the local stack. It talks over the
 * operator's own keep-alive client: client-node's generated clients open a new TLS connection per
 * call, which would load the API server a benchmark measures the operator against.
 */
export class KubeClient {
  readonly kubeconfig: string;
  readonly kc: KubeConfig;
  readonly #retryForMs: number;

  constructor(kubeconfig: string, options: KubeClientOptions = {}) {
    this.kubeconfig = kubeconfig;
    this.kc = new KubeConfig();
    this.kc.loadFromFile(kubeconfig);
    this.#retryForMs = options.retryForMs ?? 0;
  }

  /** The kubeconfig's bearer token: the security checks look for it in logs, Events and status. */
  bearerToken(): string | undefined {
    return this.kc.getCurrentUser()?.token;
  }

  /**
   * Runs `call` (told which attempt it is), retrying passing failures for `retryForMs`; any error
   * that ends it names `what`.
   */
  async retry<T>(what: string, call: (attempt: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#retryForMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(attempt);
      } catch (error) {
        if (!isTransient(error) || Date.now() >= deadline) throw new Error(`${what}: ${(error as Error).message ?? String(error)}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * 2 ** attempt)));
      }
    }
  }

  installCrds(): Promise<void> {
    return installCrds(this.kubeconfig);
  }

  kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    return kubectl(this.kubeconfig, args, { input });
  }

  createSetup(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Promise<SesSetup> {
    return this.#create(`create SesSetup ${name}`, SETUPS, undefined, name, {
      apiVersion: API_VERSION,
      kind: SES_SETUP.kind,
      metadata: { name, ...metadata },
      spec,
    });
  }

  getSetup(name: string): Promise<SesSetup | undefined> {
    return this.#get(`get SesSetup ${name}`, SETUPS, undefined, name);
  }

  async listSetups(): Promise<SesSetup[]> {
    return this.#list<SesSetup>('list SesSetups', SETUPS);
  }

  deleteSetup(name: string): Promise<void> {
    return this.#delete(`delete SesSetup ${name}`, SETUPS, undefined, name);
  }

  annotateSetup(name: string, annotations: Record<string, string>): Promise<void> {
    return this.#mergePatch(`annotate SesSetup ${name}`, SETUPS, undefined, name, { metadata: { annotations } });
  }

  /** Merge-patches the SesSetup's spec (a null value removes a field). */
  patchSetupSpec(name: string, spec: Record<string, unknown>): Promise<void> {
    return this.#mergePatch(`patch SesSetup ${name}`, SETUPS, undefined, name, { spec });
  }

  /** Last resort of a cleanup: drops every finalizer, so an object no operator will finalize cannot outlive its test. */
  async clearSetupFinalizers(name: string): Promise<void> {
    const body = { metadata: { finalizers: null } };
    await this.retry(`clear the finalizers of SesSetup ${name}`, () =>
      requestJson(this.kc, 'PATCH', objectPath(SETUPS, undefined, name), { body, contentType: MERGE_PATCH }).catch(ignore(404)),
    );
  }

  createUseCase(namespace: string, name: string, spec: Record<string, unknown>): Promise<EmailUseCase> {
    const body = { apiVersion: API_VERSION, kind: EMAIL_USE_CASE.kind, metadata: { name, namespace }, spec };
    return this.#create(`create EmailUseCase ${namespace}/${name}`, USE_CASES, namespace, name, body);
  }

  getUseCase(namespace: string, name: string): Promise<EmailUseCase | undefined> {
    return this.#get(`get EmailUseCase ${namespace}/${name}`, USE_CASES, namespace, name);
  }

  /** Every EmailUseCase in every namespace. */
  listUseCases(): Promise<EmailUseCase[]> {
    return this.#list<EmailUseCase>('list EmailUseCases', USE_CASES);
  }

  deleteUseCase(namespace: string, name: string): Promise<void> {
    return this.#delete(`delete EmailUseCase ${namespace}/${name}`, USE_CASES, namespace, name);
  }

  /** Creates the namespace unless it exists. */
  async ensureNamespace(name: string): Promise<void> {
    await this.retry(`create namespace ${name}`, () =>
      requestJson(this.kc, 'POST', objectPath(NAMESPACES), { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } }).catch(ignore(409)),
    );
  }

  /** Sets (or, with null, removes) these labels of the namespace, leaving the others. */
  labelNamespace(name: string, labels: Record<string, string | null>): Promise<void> {
    return this.#mergePatch(`label namespace ${name}`, NAMESPACES, undefined, name, { metadata: { labels } });
  }

  deleteNamespace(name: string): Promise<void> {
    return this.#delete(`delete namespace ${name}`, NAMESPACES, undefined, name);
  }

  async createConfigMap(namespace: string, name: string, data: Record<string, string>): Promise<void> {
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
    await this.#create(`create ConfigMap ${namespace}/${name}`, CONFIG_MAPS, namespace, name, body);
  }

  getConfigMap(namespace: string, name: string): Promise<ConfigMapObject | undefined> {
    return this.#get(`get ConfigMap ${namespace}/${name}`, CONFIG_MAPS, namespace, name);
  }

  /** Sets these keys of the ConfigMap's data, leaving the others. */
  updateConfigMapData(namespace: string, name: string, data: Record<string, string>): Promise<void> {
    return this.#mergePatch(`update ConfigMap ${namespace}/${name}`, CONFIG_MAPS, namespace, name, { data });
  }

  deleteConfigMap(namespace: string, name: string): Promise<void> {
    return this.#delete(`delete ConfigMap ${namespace}/${name}`, CONFIG_MAPS, namespace, name);
  }

  /** Every Event in the cluster, as kubectl prints it in JSON (for the secret scan). */
  async eventsJson(): Promise<string> {
    return (await this.kubectl(['get', 'events', '-A', '-o', 'json'])).stdout;
  }

  #create<T>(what: string, ref: Ref, namespace: string | undefined, name: string, body: unknown): Promise<T> {
    return this.retry(what, async (attempt) => {
      try {
        return await requestJson<T>(this.kc, 'POST', objectPath(ref, namespace), { body });
      } catch (error) {
        // A retried create whose earlier attempt went through.
        if (attempt > 0 && codeOf(error) === 409) {
          const existing = await requestJson<T>(this.kc, 'GET', objectPath(ref, namespace, name)).catch(ignore(404));
          if (existing) return existing;
        }
        throw error;
      }
    });
  }

  #get<T>(what: string, ref: Ref, namespace: string | undefined, name: string): Promise<T | undefined> {
    return this.retry(what, () => requestJson<T>(this.kc, 'GET', objectPath(ref, namespace, name)).catch(ignore(404)));
  }

  async #list<T>(what: string, ref: Ref): Promise<T[]> {
    return (await this.retry(what, () => requestJson<{ items: T[] }>(this.kc, 'GET', objectPath(ref)))).items;
  }

  async #delete(what: string, ref: Ref, namespace: string | undefined, name: string): Promise<void> {
    await this.retry(what, () => requestJson(this.kc, 'DELETE', objectPath(ref, namespace, name)).catch(ignore(404)));
  }

  async #mergePatch(what: string, ref: Ref, namespace: string | undefined, name: string, body: unknown): Promise<void> {
    await this.retry(what, () => requestJson(this.kc, 'PATCH', objectPath(ref, namespace, name), { body, contentType: MERGE_PATCH }));
  }
}

function codeOf(error: unknown): number | undefined {
  return error instanceof ApiError ? error.code : undefined;
}

/** A passing failure: no answer at all (connection refused or reset while kube-apiserver restarts), overload or a server error. */
function isTransient(error: unknown): boolean {
  const code = codeOf(error);
  return code === undefined || code === 429 || code >= 500;
}

/** A `.catch` handler that turns an API error with this status into `undefined` and rethrows anything else. */
function ignore(status: number): (error: unknown) => undefined {
  return (error) => {
    if (codeOf(error) === status) return undefined;
    throw error;
  };
}

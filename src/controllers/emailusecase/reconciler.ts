import { emailUseCaseSpecSchema, type EmailUseCase, type EmailUseCaseStatus } from '../../api/emailusecase.ts';
import type { SesSetup } from '../../api/sessetup.ts';
import { findCondition, setCondition, type ConditionInput } from '../../runtime/conditions.ts';
import { markReconciling, markSettled, markStalled } from '../kstatus.ts';
import type { ResourceClient } from '../../runtime/resource-client.ts';
import { ensureConfigMap, sendingConfig, type ConfigMapStore } from './configmap.ts';
import { namespaceAdmission, UNSEEN_NAMESPACES, type NamespaceLabels } from '../tenancy.ts';

export interface EmailUseCaseReconcilerDeps {
  useCases: { get(key: string): EmailUseCase | undefined };
  setups: { get(name: string): SesSetup | undefined };
  /** Namespace labels, for the setup's spec.allowedNamespaces. */
  namespaces?: NamespaceLabels;
  client: Pick<ResourceClient, 'patchStatus'>;
  wrote?: (object: EmailUseCase) => void;
  now?: () => number;
  /** Where the use case's ConfigMap is kept (none: no ConfigMap), and the region of setups without spec.region. */
  configMaps?: ConfigMapStore;
  defaultRegion?: string;
}

/**
 * Ready when the referenced SesSetup exists, allows the use case's namespace, is Ready, and
 * fromAddress lies inside its domain; keeps the use case's ConfigMap (ConfigMapReady) with what an
 * app needs to send.
 */
export class EmailUseCaseReconciler {
  readonly #d: EmailUseCaseReconcilerDeps;

  constructor(deps: EmailUseCaseReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(key: string): Promise<void> {
    const useCase = this.#d.useCases.get(key);
    if (!useCase || useCase.metadata.deletionTimestamp) return;
    const verdict = this.#judge(useCase);
    const now = new Date((this.#d.now ?? Date.now)()).toISOString();
    const g = { observedGeneration: useCase.metadata.generation };
    const status: EmailUseCaseStatus = structuredClone(useCase.status ?? {});
    status.observedGeneration = useCase.metadata.generation;
    let conditions = setCondition(status.conditions, { type: 'Ready', ...verdict.ready, ...g }, now);
    if (!verdict.progress) conditions = markSettled(conditions);
    else {
      const { type, ...progress } = verdict.progress;
      conditions = (type === 'Stalled' ? markStalled : markReconciling)(conditions, { ...progress, ...g }, now);
    }
    if (this.#d.configMaps && !verdict.invalid) {
      // A namespace the setup does not admit learns nothing of it (tenant, identity ARN, region).
      const setup = verdict.ready.reason === 'NamespaceNotAllowed' ? undefined : this.#d.setups.get(useCase.spec.sesSetupRef.name);
      const data = sendingConfig(useCase, setup, verdict.ready.status === 'True', this.#d.defaultRegion ?? '');
      conditions = setCondition(conditions, { ...(await ensureConfigMap(this.#d.configMaps, useCase, data)), ...g }, now);
    }
    status.conditions = conditions;
    const stored = await this.#d.client.patchStatus(useCase, status);
    if (stored) this.#d.wrote?.(stored);
  }

  #judge(useCase: EmailUseCase): {
    ready: Omit<ConditionInput, 'type'>;
    progress?: { type: 'Reconciling' | 'Stalled'; reason: string; message: string };
    invalid?: boolean;
  } {
    const parsed = emailUseCaseSpecSchema.safeParse(useCase.spec);
    if (!parsed.success) {
      const message = `invalid spec: ${parsed.error.issues.map((issue) => `spec.${issue.path.join('.')}: ${issue.message}`).join('; ')}`;
      return { ...notReady('InvalidSpec', message, 'Stalled'), invalid: true };
    }
    const { sesSetupRef, fromAddress } = parsed.data;
    const setup = this.#d.setups.get(sesSetupRef.name);
    if (!setup) return notReady('SetupNotFound', `SesSetup ${sesSetupRef.name} does not exist`, 'Reconciling');
    const admission = namespaceAdmission(setup, useCase.metadata.namespace, this.#d.namespaces ?? UNSEEN_NAMESPACES);
    if (!admission.allowed) return notReady('NamespaceNotAllowed', admission.message, 'Stalled');
    const domain = setup.spec.domainIdentity.toLowerCase();
    const fromDomain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase();
    if (fromDomain !== domain && !fromDomain.endsWith(`.${domain}`)) {
      return notReady('FromAddressOutsideDomain', `fromAddress ${fromAddress} is not inside ${domain}, the domain of SesSetup ${sesSetupRef.name}`, 'Stalled');
    }
    if (setup.metadata.deletionTimestamp) return notReady('SetupDeleting', `SesSetup ${sesSetupRef.name} is being deleted`, 'Reconciling');
    const setupReady = findCondition(setup.status?.conditions, 'Ready');
    if (setupReady?.status !== 'True') {
      return notReady(
        'SetupNotReady',
        `SesSetup ${sesSetupRef.name} is not Ready${setupReady ? `: ${setupReady.message}` : ' yet'}`.slice(0, 2000),
        'Reconciling',
      );
    }
    return { ready: { status: 'True', reason: 'Ready', message: `sending from ${fromAddress} through SesSetup ${sesSetupRef.name}` } };
  }
}

function notReady(reason: string, message: string, progress: 'Reconciling' | 'Stalled') {
  return { ready: { status: 'False' as const, reason, message }, progress: { type: progress, reason, message } };
}

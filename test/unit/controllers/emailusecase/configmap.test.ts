import { describe, expect, it } from 'vitest';
import type { EmailUseCase } from '../../../../src/api/emailusecase.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { ApiError } from '../../../../src/runtime/kube-http.ts';
import { ensureConfigMap, sendingConfig, type ConfigMap, type ConfigMapStore } from '../../../../src/controllers/emailusecase/configmap.ts';

/** ConfigMaps in memory, counting writes. */
function memoryStore(initial: ConfigMap[] = []) {
  const maps = new Map(initial.map((cm) => [`${cm.metadata.namespace}/${cm.metadata.name}`, structuredClone(cm)]));
  const writes: string[] = [];
  const store: ConfigMapStore = {
    get: async (namespace, name) => structuredClone(maps.get(`${namespace}/${name}`)),
    create: async (cm) => {
      const key = `${cm.metadata.namespace}/${cm.metadata.name}`;
      if (maps.has(key)) throw new ApiError(409, 'AlreadyExists', 'exists');
      writes.push(`create ${key}`);
      maps.set(key, structuredClone(cm));
      return cm;
    },
    update: async (cm) => {
      writes.push(`update ${cm.metadata.namespace}/${cm.metadata.name}`);
      maps.set(`${cm.metadata.namespace}/${cm.metadata.name}`, structuredClone(cm));
      return cm;
    },
  };
  return { store, maps, writes };
}

const useCase: EmailUseCase = {
  apiVersion: 'ses.channels.dev/v1alpha1',
  kind: 'EmailUseCase',
  metadata: { name: 'invoices', namespace: 'billing', uid: 'uc-uid-1', generation: 1 },
  spec: { sesSetupRef: { name: 'acme-mail' }, fromAddress: 'invoices@mail.acme.com' },
};
const setup = {
  metadata: { name: 'acme-mail' },
  spec: { tenantName: 'acme_prod', domainIdentity: 'mail.acme.com', region: 'eu-west-1' },
  status: { identity: { name: 'mail.acme.com', arn: 'arn:aws:ses:eu-west-1:123456789012:identity/mail.acme.com' } },
} as SesSetup;

describe('the EmailUseCase ConfigMap', () => {
  it('holds the sending settings, the setup region winning over the default, and empty values while the setup is missing', () => {
    expect(sendingConfig(useCase, setup, true, 'us-east-1')).toEqual({
      AWS_REGION: 'eu-west-1',
      SES_TENANT_NAME: 'acme_prod',
      SES_IDENTITY_ARN: 'arn:aws:ses:eu-west-1:123456789012:identity/mail.acme.com',
      SES_FROM_ADDRESS: 'invoices@mail.acme.com',
      SES_READY: 'true',
      SES_SETUP: 'acme-mail',
    });
    expect(sendingConfig(useCase, undefined, false, 'us-east-1')).toMatchObject({ AWS_REGION: 'us-east-1', SES_TENANT_NAME: '', SES_READY: 'false' });
  });

  it('creates it owned by the use case, writes again only when the data changes', async () => {
    const { store, maps, writes } = memoryStore();
    const data = sendingConfig(useCase, setup, false, 'us-east-1');
    expect(await ensureConfigMap(store, useCase, data)).toMatchObject({ type: 'ConfigMapReady', status: 'True' });
    expect(maps.get('billing/invoices-ses')?.metadata.ownerReferences).toEqual([
      { apiVersion: 'ses.channels.dev/v1alpha1', kind: 'EmailUseCase', name: 'invoices', uid: 'uc-uid-1', controller: true },
    ]);
    await ensureConfigMap(store, useCase, data);
    expect(writes).toEqual(['create billing/invoices-ses']);
    await ensureConfigMap(store, useCase, { ...data, SES_READY: 'true' });
    expect(writes).toEqual(['create billing/invoices-ses', 'update billing/invoices-ses']);
    expect(maps.get('billing/invoices-ses')?.data?.SES_READY).toBe('true');
  });

  it('uses spec.configMapName, and never touches a ConfigMap it does not own', async () => {
    const foreign: ConfigMap = { metadata: { name: 'mail-settings', namespace: 'billing' }, data: { mine: 'yes' } };
    const { store, maps, writes } = memoryStore([foreign]);
    const named = { ...useCase, spec: { ...useCase.spec, configMapName: 'mail-settings' } };
    const condition = await ensureConfigMap(store, named, sendingConfig(named, setup, true, 'us-east-1'));
    expect(condition).toMatchObject({ status: 'False', reason: 'ConfigMapNotOwned' });
    expect(condition.message).toContain('ConfigMap billing/mail-settings exists and is not owned by this EmailUseCase');
    expect(writes).toEqual([]);
    expect(maps.get('billing/mail-settings')).toEqual(foreign);
    // Owned by another use case of the same name that was deleted and re-created: not ours either.
    const stale = memoryStore([
      {
        metadata: {
          name: 'invoices-ses',
          namespace: 'billing',
          ownerReferences: [{ apiVersion: 'ses.channels.dev/v1alpha1', kind: 'EmailUseCase', name: 'invoices', uid: 'old-uid', controller: true }],
        },
      },
    ]);
    expect((await ensureConfigMap(stale.store, useCase, sendingConfig(useCase, setup, true, 'x'))).reason).toBe('ConfigMapNotOwned');
  });
});

import { describe, expect, it } from 'vitest';
import type { EmailUseCase } from '../../../../src/api/emailusecase.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import type { ConfigMap } from '../../../../src/controllers/emailusecase/configmap.ts';
import { EmailUseCaseReconciler } from '../../../../src/controllers/emailusecase/reconciler.ts';
import { newSetup } from '../sessetup/fixture.ts';

/** An EmailUseCase reconciler over in-memory use cases, setups and namespace labels; status writes land in `stored`. */
function fixture(setup: SesSetup, labels: Record<string, Record<string, string>>) {
  const useCases = new Map<string, EmailUseCase>();
  const configMaps = new Map<string, ConfigMap>();
  const reconciler = new EmailUseCaseReconciler({
    configMaps: {
      get: async (namespace, name) => configMaps.get(`${namespace}/${name}`),
      create: async (cm) => (configMaps.set(`${cm.metadata.namespace}/${cm.metadata.name}`, cm), cm),
      update: async (cm) => (configMaps.set(`${cm.metadata.namespace}/${cm.metadata.name}`, cm), cm),
    },
    defaultRegion: 'us-east-1',
    useCases: { get: (key) => useCases.get(key) },
    setups: { get: (name) => (name === setup.metadata.name ? setup : undefined) },
    namespaces: { labels: (name) => labels[name] },
    client: {
      patchStatus: async <T>(object: T & EmailUseCase, status: unknown) => {
        const stored = { ...structuredClone(object), status } as T & EmailUseCase;
        useCases.set(`${object.metadata.namespace}/${object.metadata.name}`, stored);
        return stored;
      },
    },
    now: () => Date.parse('2026-11-28T12:00:00Z'),
  });
  const add = (namespace: string, name: string) =>
    useCases.set(`${namespace}/${name}`, {
      apiVersion: 'ses.channels.dev/v1alpha1',
      kind: 'EmailUseCase',
      metadata: { name, namespace, generation: 1 },
      spec: { sesSetupRef: { name: setup.metadata.name }, fromAddress: `${name}@${setup.spec.domainIdentity}` },
    });
  const conditions = (key: string) => Object.fromEntries((useCases.get(key)?.status?.conditions ?? []).map((c) => [c.type, c]));
  return { reconciler, add, conditions, useCases, configMaps };
}

const readySetup = (spec: Partial<SesSetup['spec']>) => {
  const setup = newSetup('acme', spec);
  setup.status = { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ready', lastTransitionTime: '2026-11-28T11:00:00Z' }] };
  return setup;
};

describe('an EmailUseCase and its setup’s allowedNamespaces', () => {
  const labels = { billing: { team: 'billing' }, shop: { team: 'shop' } };

  it('from a namespace the selector does not match: Ready=False and Stalled, reason NamespaceNotAllowed, naming the setup and the rule', async () => {
    const f = fixture(readySetup({ allowedNamespaces: { from: 'Selector', selector: { matchLabels: { team: 'billing' } } } }), labels);
    f.add('shop', 'orders');
    await f.reconciler.reconcile('shop/orders');
    const { Ready, Stalled, Reconciling } = f.conditions('shop/orders');
    expect(Ready).toMatchObject({ status: 'False', reason: 'NamespaceNotAllowed', observedGeneration: 1 });
    expect(Ready!.message).toContain('namespace shop is not allowed to use SesSetup acme');
    expect(Ready!.message).toContain('"team=billing"');
    expect(Stalled).toMatchObject({ status: 'True', reason: 'NamespaceNotAllowed', message: Ready!.message });
    expect(Reconciling).toBeUndefined();
  });

  it('from a namespace not allowed: its ConfigMap tells nothing of the setup (tenant, identity ARN, region)', async () => {
    const setup = readySetup({ region: 'eu-west-1', allowedNamespaces: { from: 'Selector', selector: { matchLabels: { team: 'billing' } } } });
    setup.status!.identity = { name: setup.spec.domainIdentity, arn: 'arn:aws:ses:eu-west-1:123456789012:identity/acme.example.test' };
    const f = fixture(setup, labels);
    f.add('shop', 'orders');
    f.add('billing', 'invoices');
    await f.reconciler.reconcile('shop/orders');
    await f.reconciler.reconcile('billing/invoices');
    expect(f.configMaps.get('shop/orders-ses')?.data).toMatchObject({ SES_TENANT_NAME: '', SES_IDENTITY_ARN: '', AWS_REGION: 'us-east-1', SES_READY: 'false' });
    expect(f.configMaps.get('billing/invoices-ses')?.data).toMatchObject({
      SES_TENANT_NAME: setup.spec.tenantName,
      SES_IDENTITY_ARN: setup.status!.identity.arn,
      AWS_REGION: 'eu-west-1',
      SES_READY: 'true',
    });
  });

  it('from a matching namespace: Ready as before', async () => {
    const f = fixture(readySetup({ allowedNamespaces: { from: 'Selector', selector: { matchLabels: { team: 'billing' } } } }), labels);
    f.add('billing', 'invoices');
    await f.reconciler.reconcile('billing/invoices');
    expect(f.conditions('billing/invoices').Ready).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(f.conditions('billing/invoices').Stalled).toBeUndefined();
  });

  it('with from: All (or no allowedNamespaces) every namespace is allowed', async () => {
    for (const spec of [{}, { allowedNamespaces: { from: 'All' as const } }]) {
      const f = fixture(readySetup(spec), labels);
      f.add('shop', 'orders');
      await f.reconciler.reconcile('shop/orders');
      expect(f.conditions('shop/orders').Ready).toMatchObject({ status: 'True', reason: 'Ready' });
    }
  });

  it('is judged before the from address and the setup’s own state: a refused namespace learns nothing about the setup', async () => {
    const setup = readySetup({ allowedNamespaces: { from: 'Selector', selector: { matchLabels: { team: 'billing' } } } });
    setup.status = {
      conditions: [{ type: 'Ready', status: 'False', reason: 'RecordsNotVerified', message: 'secret detail', lastTransitionTime: '2026-11-28T11:00:00Z' }],
    };
    const f = fixture(setup, labels);
    f.useCases.set('shop/orders', {
      apiVersion: 'ses.channels.dev/v1alpha1',
      kind: 'EmailUseCase',
      metadata: { name: 'orders', namespace: 'shop', generation: 1 },
      spec: { sesSetupRef: { name: 'acme' }, fromAddress: 'orders@elsewhere.test' },
    });
    await f.reconciler.reconcile('shop/orders');
    expect(f.conditions('shop/orders').Ready).toMatchObject({ reason: 'NamespaceNotAllowed' });
    expect(f.conditions('shop/orders').Ready!.message).not.toContain('secret detail');
  });

  it('turns Ready once the namespace is relabelled to match (the next reconcile reads the new labels)', async () => {
    const live = { billing: { team: 'billing' }, shop: { team: 'shop' } as Record<string, string> };
    const f = fixture(readySetup({ allowedNamespaces: { from: 'Selector', selector: { matchLabels: { team: 'billing' } } } }), live);
    f.add('shop', 'orders');
    await f.reconciler.reconcile('shop/orders');
    expect(f.conditions('shop/orders').Ready?.reason).toBe('NamespaceNotAllowed');
    live.shop = { team: 'billing' };
    await f.reconciler.reconcile('shop/orders');
    expect(f.conditions('shop/orders').Ready).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(f.conditions('shop/orders').Stalled).toBeUndefined();
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import type { EmailUseCase } from '../../../../src/api/emailusecase.ts';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { EmailUseCaseReconciler } from '../../../../src/controllers/emailusecase/reconciler.ts';
import { FakeClock, FakeResources } from '../../../support/fakes/index.ts';

function newSetup(name: string, domainIdentity: string, ready?: { status: 'True' | 'False'; message: string }): SesSetup {
  return {
    apiVersion: 'ses.channels.dev/v1alpha1',
    kind: 'SesSetup',
    metadata: { name, uid: `uid-${name}`, generation: 1 },
    spec: { tenantName: `${name}_t`, domainIdentity, deletionPolicy: 'Delete', adoptionPolicy: 'Never', dnsPublication: 'Manual' },
    status: ready ? { conditions: [{ type: 'Ready', lastTransitionTime: '2026-11-28T11:00:00Z', reason: 'Test', ...ready }] } : undefined,
  };
}

function newUseCase(name: string, spec: Record<string, unknown>, generation = 1): EmailUseCase {
  return {
    apiVersion: 'ses.channels.dev/v1alpha1',
    kind: 'EmailUseCase',
    metadata: { name, namespace: 'billing', uid: `uid-${name}`, generation },
    spec: spec as EmailUseCase['spec'],
  };
}

describe('EmailUseCaseReconciler (in-memory doubles)', () => {
  let useCases: FakeResources<EmailUseCase>;
  let setups: FakeResources<SesSetup>;
  let clock: FakeClock;
  let reconciler: EmailUseCaseReconciler;

  beforeEach(() => {
    useCases = new FakeResources();
    setups = new FakeResources();
    clock = new FakeClock();
    reconciler = new EmailUseCaseReconciler({ useCases: useCases.store, setups: setups.store, client: useCases.client, now: clock.now });
  });

  const conditions = () => Object.fromEntries((useCases.objects.get('billing/invoices')?.status?.conditions ?? []).map((c) => [c.type, c]));

  it('is Ready when the setup is Ready and fromAddress lies in its domain or a subdomain', async () => {
    setups.put(newSetup('acme', 'mail.acme.test', { status: 'True', message: 'verified' }));
    useCases.put(newUseCase('invoices', { sesSetupRef: { name: 'acme' }, fromAddress: 'invoices@eu.Mail.Acme.test' }));
    await reconciler.reconcile('billing/invoices');
    expect(conditions()).toEqual({
      Ready: {
        type: 'Ready',
        status: 'True',
        observedGeneration: 1,
        lastTransitionTime: '2026-11-28T12:00:00.000Z',
        reason: 'Ready',
        message: 'sending from invoices@eu.Mail.Acme.test through SesSetup acme',
      },
    });
    expect(useCases.objects.get('billing/invoices')?.status?.observedGeneration).toBe(1);
  });

  it('waits (Reconciling) for a setup that does not exist, is not Ready, or is being deleted', async () => {
    useCases.put(newUseCase('invoices', { sesSetupRef: { name: 'acme' }, fromAddress: 'invoices@mail.acme.test' }));
    await reconciler.reconcile('billing/invoices');
    expect(conditions().Ready).toMatchObject({ status: 'False', reason: 'SetupNotFound', message: 'SesSetup acme does not exist' });
    expect(conditions().Reconciling).toMatchObject({ status: 'True', reason: 'SetupNotFound' });

    setups.put(newSetup('acme', 'mail.acme.test', { status: 'False', message: 'DKIM not verified' }));
    clock.advance(60_000);
    await reconciler.reconcile('billing/invoices');
    expect(conditions().Ready).toMatchObject({ reason: 'SetupNotReady', message: 'SesSetup acme is not Ready: DKIM not verified' });
    // Still False: the transition time stays that of the first verdict.
    expect(conditions().Ready?.lastTransitionTime).toBe('2026-11-28T12:00:00.000Z');

    const deleting = setups.get('acme')!;
    deleting.metadata.deletionTimestamp = '2026-11-28T12:05:00Z';
    setups.put(deleting);
    await reconciler.reconcile('billing/invoices');
    expect(conditions().Ready).toMatchObject({ reason: 'SetupDeleting', message: 'SesSetup acme is being deleted' });
    expect(conditions().Stalled).toBeUndefined();
  });

  it('stalls on a fromAddress outside the domain and on an invalid spec, naming the problem', async () => {
    setups.put(newSetup('acme', 'mail.acme.test', { status: 'True', message: 'verified' }));
    useCases.put(newUseCase('invoices', { sesSetupRef: { name: 'acme' }, fromAddress: 'invoices@notmail.acme.test' }));
    await reconciler.reconcile('billing/invoices');
    expect(conditions().Ready).toMatchObject({ status: 'False', reason: 'FromAddressOutsideDomain' });
    expect(conditions().Stalled?.message).toBe('fromAddress invoices@notmail.acme.test is not inside mail.acme.test, the domain of SesSetup acme');
    expect(conditions().Reconciling).toBeUndefined();

    useCases.put(newUseCase('invoices', { sesSetupRef: { name: 'acme' }, fromAddress: 'invoices' }, 2));
    await reconciler.reconcile('billing/invoices');
    expect(conditions().Ready).toMatchObject({ status: 'False', reason: 'InvalidSpec', observedGeneration: 2 });
    expect(conditions().Stalled?.message).toMatch(/^invalid spec: spec\.fromAddress: /);
  });

  it('turns Ready once the setup does, dropping Reconciling, and writes nothing when nothing changed', async () => {
    setups.put(newSetup('acme', 'mail.acme.test'));
    useCases.put(newUseCase('invoices', { sesSetupRef: { name: 'acme' }, fromAddress: 'invoices@mail.acme.test' }));
    await reconciler.reconcile('billing/invoices');
    expect(conditions().Ready).toMatchObject({ status: 'False', reason: 'SetupNotReady', message: 'SesSetup acme is not Ready yet' });
    const writes = useCases.writes;
    await reconciler.reconcile('billing/invoices');
    expect(useCases.writes).toBe(writes);

    setups.put(newSetup('acme', 'mail.acme.test', { status: 'True', message: 'verified' }));
    clock.advance(30_000);
    await reconciler.reconcile('billing/invoices');
    expect(Object.keys(conditions())).toEqual(['Ready']);
    expect(conditions().Ready).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-28T12:00:30.000Z' });
    expect(useCases.writes).toBe(writes + 1);
  });

  it('leaves a use case that is gone or being deleted alone', async () => {
    await reconciler.reconcile('billing/missing');
    const deleting = newUseCase('invoices', { sesSetupRef: { name: 'acme' }, fromAddress: 'invoices@mail.acme.test' });
    deleting.metadata.deletionTimestamp = '2026-11-28T12:00:00Z';
    useCases.put(deleting);
    await reconciler.reconcile('billing/invoices');
    expect(useCases.writes).toBe(0);
  });
});

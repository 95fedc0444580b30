import {
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  DeleteEmailIdentityCommand,
  GetTenantCommand,
  ListTenantsCommand,
  SESv2ServiceException,
  TagResourceCommand,
} from '@aws-sdk/client-sesv2';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatorControlClient } from '../../../harness/simulator/control-client.ts';
import type { SesSimulator } from '../../../harness/simulator/server.ts';
import { identityArn, simulatorHarness } from './sdk-harness.ts';

const harness = simulatorHarness();
const REGION = 'eu-central-1';

describe('control calls over HTTP, through SimulatorControlClient', () => {
  let sim: SesSimulator;
  let control: SimulatorControlClient;
  beforeAll(async () => {
    sim = await harness.simulator({ region: REGION });
    control = new SimulatorControlClient(sim.url);
  });
  beforeEach(() => sim.reset());

  describe("a tenant's SendingStatus, as SES pauses and reinstates tenants", () => {
    it('shows DISABLED, REINSTATED and ENABLED in GetTenant and ListTenants, per region', async () => {
      const ses = harness.client(sim);
      const other = harness.client(sim, 'ap-south-1');
      await ses.send(new CreateTenantCommand({ TenantName: 'paused' }));
      await other.send(new CreateTenantCommand({ TenantName: 'paused' }));

      expect(await control.setTenantSendingStatus('paused', 'DISABLED')).toEqual({ region: REGION, tenantName: 'paused', sendingStatus: 'DISABLED' });
      expect((await ses.send(new GetTenantCommand({ TenantName: 'paused' }))).Tenant!.SendingStatus).toBe('DISABLED');
      expect((await other.send(new GetTenantCommand({ TenantName: 'paused' }))).Tenant!.SendingStatus).toBe('ENABLED');
      const disabled = await ses.send(new ListTenantsCommand({ Filter: { SENDING_STATUS: 'DISABLED' } }));
      expect(disabled.Tenants!.map((tenant) => [tenant.TenantName, tenant.SendingStatus])).toEqual([['paused', 'DISABLED']]);

      await control.setTenantSendingStatus('paused', 'REINSTATED');
      expect((await ses.send(new GetTenantCommand({ TenantName: 'paused' }))).Tenant!.SendingStatus).toBe('REINSTATED');
      await control.setTenantSendingStatus('paused', 'DISABLED', 'ap-south-1');
      expect((await other.send(new GetTenantCommand({ TenantName: 'paused' }))).Tenant!.SendingStatus).toBe('DISABLED');
      await control.setTenantSendingStatus('paused', 'ENABLED');
      expect((await ses.send(new GetTenantCommand({ TenantName: 'paused' }))).Tenant!.SendingStatus).toBe('ENABLED');
      expect(sim.state().regions[REGION]!.tenants[0]!.sendingStatus).toBe('ENABLED');
    });

    it('answers 404 for a missing tenant and 400 for an unknown status', async () => {
      await expect(control.setTenantSendingStatus('nobody', 'DISABLED')).rejects.toThrow(/404.*Tenant nobody does not exist in eu-central-1/);
      await harness.client(sim).send(new CreateTenantCommand({ TenantName: 'x' }));
      await expect(control.setTenantSendingStatus('x', 'PAUSED' as never)).rejects.toThrow(/400.*expected one of ENABLED, DISABLED, REINSTATED/);
    });
  });

  describe('injected modeled errors, decoded by the real SDK', () => {
    it.each([
      [
        'AccessDeniedException',
        403,
        'client',
        /^User: arn:aws:iam::123456789012:user\/ses-simulator is not authorized to perform: ses:CreateTenant on resource: arn:aws:ses:eu-central-1:123456789012:tenant\/t1 because/,
      ],
      ['ConcurrentModificationException', 500, 'server', /^The resource is being modified by another operation or thread\.$/],
      ['LimitExceededException', 400, 'client', /^There are too many instances of the specified resource type\.$/],
      ['NotFoundException', 404, 'client', /^The resource you attempted to access doesn't exist\.$/],
    ] as const)('%s: status %i, the SDK names it and keeps the message', async (error, status, fault, message) => {
      const ses = harness.client(sim);
      await control.injectError({ operation: 'CreateTenant', error });
      const thrown = await ses.send(new CreateTenantCommand({ TenantName: 't1' })).catch((caught: unknown) => caught);
      expect(thrown).toBeInstanceOf(SESv2ServiceException);
      expect(thrown).toMatchObject({ name: error, $fault: fault, $metadata: { httpStatusCode: status } });
      expect((thrown as Error).message).toMatch(message);
      expect(sim.calls().log.at(-1)).toMatchObject({ operation: 'CreateTenant', status, error, target: 't1', region: REGION });
      // Nothing was created: the error answered instead of the operation.
      expect(sim.state().tenants).toEqual([]);
    });

    it('sends the wire shape AWS sends: the type in x-amzn-errortype, the text in the body', async () => {
      await control.injectError({ operation: 'ListTenants', error: 'AccessDeniedException' });
      await control.injectError({ operation: 'GetTenant', error: 'ConcurrentModificationException' });
      const denied = await fetch(`${sim.url}/v2/email/tenants/list`, { method: 'POST', body: '{}' });
      expect(denied.status).toBe(403);
      expect(denied.headers.get('x-amzn-errortype')).toBe('AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/');
      expect(await denied.json()).toEqual({ Message: expect.stringContaining('not authorized to perform: ses:ListTenants') });
      const conflict = await fetch(`${sim.url}/v2/email/tenants/get`, { method: 'POST', body: '{"TenantName":"a"}' });
      expect(conflict.status).toBe(500);
      expect(conflict.headers.get('x-amzn-errortype')).toBe('ConcurrentModificationException');
      expect(await conflict.json()).toEqual({ message: 'The resource is being modified by another operation or thread.' });
    });

    it('fails only the chosen resource (by name or ARN), region, or count, and until cleared', async () => {
      const ses = harness.client(sim);
      const elsewhere = harness.client(sim, 'us-west-2');
      await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'a.example.com' }));
      await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'b.example.com' }));
      const byArn = await control.injectError({ operation: 'TagResource', error: 'AccessDeniedException', resource: identityArn('a.example.com', REGION) });
      expect(byArn).toMatchObject({ id: expect.any(Number), remaining: null, hits: 0 });
      const tag = (name: string) => ses.send(new TagResourceCommand({ ResourceArn: identityArn(name, REGION), Tags: [{ Key: 'k', Value: 'v' }] }));
      await expect(tag('a.example.com')).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await tag('b.example.com');

      // A count: the next two calls for this identity (any case), then it works again.
      await control.injectError({ operation: 'DeleteEmailIdentity', error: 'ConcurrentModificationException', resource: 'B.example.com', count: 2 });
      for (let attempt = 0; attempt < 2; attempt++) {
        await expect(ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: 'b.example.com' }))).rejects.toMatchObject({
          name: 'ConcurrentModificationException',
        });
      }
      await ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: 'b.example.com' }));

      // A region: other regions work.
      await control.injectError({ operation: 'CreateTenant', error: 'LimitExceededException', region: 'us-west-2', message: 'Tenant quota reached' });
      await ses.send(new CreateTenantCommand({ TenantName: 'fine' }));
      await expect(elsewhere.send(new CreateTenantCommand({ TenantName: 'capped' }))).rejects.toMatchObject({
        name: 'LimitExceededException',
        message: 'Tenant quota reached',
      });

      const rules = await control.errorRules();
      expect(rules.map((rule) => [rule.operation, rule.hits, rule.remaining])).toEqual([
        ['TagResource', 1, null],
        ['CreateTenant', 1, null],
      ]);
      expect(await control.clearErrors(byArn.id)).toEqual({ removed: 1 });
      await tag('a.example.com');
      expect(await control.clearErrors()).toEqual({ removed: 1 });
      await elsewhere.send(new CreateTenantCommand({ TenantName: 'capped' }));
      await expect(control.clearErrors(byArn.id)).rejects.toThrow(/404/);
    });

    it('comes after the "next N calls" faults and before the quota, and a reset clears the rules', async () => {
      const ses = harness.client(sim);
      await control.setFaults({ throttleNext: 1, quota: { ratePerSecond: 0.001, burst: 1 } });
      await control.injectError({ operation: 'ListTenants', error: 'AccessDeniedException', count: 1 });
      await expect(ses.send(new ListTenantsCommand({}))).rejects.toMatchObject({ name: 'TooManyRequestsException' });
      await expect(ses.send(new ListTenantsCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      // The denied call took no token from the quota: one call still fits.
      await ses.send(new ListTenantsCommand({}));
      await expect(ses.send(new ListTenantsCommand({}))).rejects.toMatchObject({ name: 'TooManyRequestsException' });

      await control.injectError({ operation: 'ListTenants', error: 'NotFoundException' });
      await control.reset();
      expect(await control.errorRules()).toEqual([]);
    });

    it.each([
      [{ operation: 'Frobnicate', error: 'NotFoundException' }, /operation must be one of CreateTenant/],
      [{ operation: 'GetTenant', error: 'ThrottlingException' }, /error must be one of AccessDeniedException, ConcurrentModificationException/],
      [{ operation: 'GetTenant', error: 'NotFoundException', count: 0 }, /count must be a whole number >= 1/],
      [{ operation: 'GetTenant', error: 'NotFoundException', resource: '' }, /resource must be a non-empty string/],
      [{ operation: 'GetTenant', error: 'NotFoundException', surprise: true }, /unknown error rule field .{0,2}"surprise/],
    ])('refuses the rule %j with 400', async (rule, message) => {
      await expect(control.injectError(rule as never)).rejects.toThrow(message);
      expect(await control.errorRules()).toEqual([]);
    });
  });
});

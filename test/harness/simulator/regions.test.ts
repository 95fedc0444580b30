import {
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  DeleteTenantCommand,
  GetEmailIdentityCommand,
  GetTenantCommand,
  ListEmailIdentitiesCommand,
  ListTagsForResourceCommand,
  ListTenantResourcesCommand,
  ListTenantsCommand,
  TagResourceCommand,
} from '@aws-sdk/client-sesv2';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SesSimulator } from '../../../harness/simulator/server.ts';
import { identityArn, simulatorHarness } from './sdk-harness.ts';

const harness = simulatorHarness();
const EAST = 'us-east-1';
const WEST = 'eu-west-1';

describe('state per region, the region taken from the SigV4 credential scope', () => {
  let sim: SesSimulator;
  beforeAll(async () => {
    sim = await harness.simulator({ region: EAST, signingHostedZone: 'dkim.{region}.amazonses.com' });
  });
  beforeEach(() => sim.reset());

  it('lets the same tenant name exist once per region, each ARN carrying its region', async () => {
    const east = harness.client(sim, EAST);
    const west = harness.client(sim, WEST);
    const inEast = await east.send(new CreateTenantCommand({ TenantName: 'acme' }));
    const inWest = await west.send(new CreateTenantCommand({ TenantName: 'acme', Tags: [{ Key: 'team', Value: 'eu' }] }));
    expect(inEast.TenantArn).toBe(`arn:aws:ses:${EAST}:123456789012:tenant/acme/${inEast.TenantId}`);
    expect(inWest.TenantArn).toBe(`arn:aws:ses:${WEST}:123456789012:tenant/acme/${inWest.TenantId}`);
    expect(inWest.TenantId).not.toBe(inEast.TenantId);
    await expect(west.send(new CreateTenantCommand({ TenantName: 'acme' }))).rejects.toMatchObject({ name: 'AlreadyExistsException' });

    // Each region answers with its own tenant, tags included.
    expect((await east.send(new GetTenantCommand({ TenantName: 'acme' }))).Tenant).toMatchObject({ TenantId: inEast.TenantId, Tags: [] });
    expect((await west.send(new GetTenantCommand({ TenantName: 'acme' }))).Tenant).toMatchObject({
      TenantId: inWest.TenantId,
      Tags: [{ Key: 'team', Value: 'eu' }],
    });

    // Deleting in one region leaves the other.
    await west.send(new DeleteTenantCommand({ TenantName: 'acme' }));
    await expect(west.send(new GetTenantCommand({ TenantName: 'acme' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    expect((await east.send(new ListTenantsCommand({}))).Tenants!.map((tenant) => tenant.TenantArn)).toEqual([inEast.TenantArn]);
  });

  it("keeps identities, associations and tags apart, and another region's ARN names nothing here", async () => {
    const east = harness.client(sim, EAST);
    const west = harness.client(sim, WEST);
    const domain = 'mail.regions.example.com';
    const created = await west.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    expect(created.DkimAttributes!.SigningHostedZone).toBe(`dkim.${WEST}.amazonses.com`);
    await expect(east.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).rejects.toMatchObject({ name: 'NotFoundException' });
    expect((await east.send(new ListEmailIdentitiesCommand({}))).EmailIdentities).toEqual([]);

    const inEast = await east.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    expect(inEast.DkimAttributes!.SigningHostedZone).toBe(`dkim.${EAST}.amazonses.com`);
    expect(inEast.DkimAttributes!.Tokens).not.toEqual(created.DkimAttributes!.Tokens);

    await west.send(new CreateTenantCommand({ TenantName: 'shop' }));
    await east.send(new CreateTenantCommand({ TenantName: 'shop' }));
    await expect(west.send(new CreateTenantResourceAssociationCommand({ TenantName: 'shop', ResourceArn: identityArn(domain, EAST) }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
    await west.send(new CreateTenantResourceAssociationCommand({ TenantName: 'shop', ResourceArn: identityArn(domain, WEST) }));
    expect((await east.send(new ListTenantResourcesCommand({ TenantName: 'shop' }))).TenantResources).toEqual([]);
    expect((await west.send(new ListTenantResourcesCommand({ TenantName: 'shop' }))).TenantResources).toEqual([
      { ResourceType: 'EMAIL_IDENTITY', ResourceArn: identityArn(domain, WEST) },
    ]);

    await west.send(new TagResourceCommand({ ResourceArn: identityArn(domain, WEST), Tags: [{ Key: 'k', Value: 'west' }] }));
    expect((await east.send(new ListTagsForResourceCommand({ ResourceArn: identityArn(domain, EAST) }))).Tags).toEqual([]);
    await expect(east.send(new ListTagsForResourceCommand({ ResourceArn: identityArn(domain, WEST) }))).rejects.toMatchObject({ name: 'NotFoundException' });

    const state = sim.state();
    expect(Object.keys(state.regions)).toEqual([WEST, EAST]);
    expect(state.regions[WEST]!.identities.map((identity) => [identity.region, identity.arn])).toEqual([[WEST, identityArn(domain, WEST)]]);
    expect(state.regions[WEST]!.associations).toEqual([expect.objectContaining({ region: WEST, tenantName: 'shop', resourceArn: identityArn(domain, WEST) })]);
    expect(state.regions[EAST]!.associations).toEqual([]);
    // The flat lists hold every region's records, each naming its region.
    expect(state.tenants.map((tenant) => tenant.region).sort()).toEqual([WEST, EAST].sort());
  });

  it('logs each call with its region, sends unsigned requests to the default region, and refuses a scope naming no region', async () => {
    await harness.client(sim, WEST).send(new CreateTenantCommand({ TenantName: 'logged' }));
    await harness.client(sim, EAST).send(new ListTenantsCommand({}));
    const unsigned = await fetch(`${sim.url}/v2/email/tenants/list`, { method: 'POST', body: '{}' });
    expect(await unsigned.json()).toEqual({ Tenants: [] }); // the default region (us-east-1) has no tenant

    const bad = await fetch(`${sim.url}/v2/email/tenants/list`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20261130/Mars/ses/aws4_request, SignedHeaders=host, Signature=00' },
    });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');

    const calls = sim.calls();
    expect(calls.log.map((call) => [call.operation, call.region, call.status])).toEqual([
      ['CreateTenant', WEST, 200],
      ['ListTenants', EAST, 200],
      ['ListTenants', EAST, 200],
      ['ListTenants', EAST, 403],
    ]);
    expect(calls.countsByRegion).toEqual({ [WEST]: { CreateTenant: 1 }, [EAST]: { ListTenants: 3 } });
    expect(sim.calls(0, WEST).log.map((call) => call.operation)).toEqual(['CreateTenant']);
    const overHttp = (await (await fetch(`${sim.url}/_simulator/calls?region=${WEST}`)).json()) as { log: unknown[] };
    expect(overHttp.log).toHaveLength(1);
  });

  it('forgets every region on reset', async () => {
    await harness.client(sim, WEST).send(new CreateTenantCommand({ TenantName: 'gone' }));
    sim.reset();
    expect(sim.state()).toMatchObject({ region: EAST, regions: { [EAST]: { tenants: [], identities: [], associations: [] } }, tenants: [] });
    expect(Object.keys(sim.state().regions)).toEqual([EAST]);
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  DeleteEmailIdentityCommand,
  DeleteTenantCommand,
  DeleteTenantResourceAssociationCommand,
  GetEmailIdentityCommand,
  GetTenantCommand,
  ListEmailIdentitiesCommand,
  ListResourceTenantsCommand,
  ListTagsForResourceCommand,
  ListTenantResourcesCommand,
  ListTenantsCommand,
  paginateListTenants,
  SESv2Client,
  TagResourceCommand,
  UntagResourceCommand,
  type SESv2ClientConfig,
} from '@aws-sdk/client-sesv2';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSesSimulator, type SesSimulator, type SesSimulatorOptions } from '../../harness/simulator/server.ts';
import { startDnsServer, type DnsServer } from '../../harness/stack/dns-server.ts';
import { publishRecords } from '../../harness/stack/dns-records.ts';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const identityArn = (name: string, region = REGION) => `arn:aws:ses:${region}:${ACCOUNT}:identity/${name}`;

const clients: SESv2Client[] = [];
const simulators: SesSimulator[] = [];

/** The real SDK client, pointed at a simulator through the endpoint override. */
function sesClient(sim: SesSimulator, config: Partial<SESv2ClientConfig> = {}): SESv2Client {
  const client = new SESv2Client({
    endpoint: sim.url,
    region: sim.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...config,
  });
  clients.push(client);
  return client;
}

async function simulator(options: SesSimulatorOptions = {}): Promise<SesSimulator> {
  const sim = await startSesSimulator({ region: REGION, dkimCheckIntervalMs: 3_600_000, ...options });
  simulators.push(sim);
  return sim;
}

async function control(sim: SesSimulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sim.url}/_simulator/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, body: await response.json() };
}

const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(simulators.map((sim) => sim.close()));
});

describe('SES simulator through the real @aws-sdk/client-sesv2', () => {
  let sim: SesSimulator;
  let ses: SESv2Client;

  beforeAll(async () => {
    sim = await simulator();
    ses = sesClient(sim, { maxAttempts: 1 });
  });
  beforeEach(() => sim.reset());

  describe('tenants', () => {
    it('creates, gets, lists and deletes a tenant with SES-shaped fields', async () => {
      const before = Date.now();
      const created = await ses.send(new CreateTenantCommand({ TenantName: 'acme_Corp-1', Tags: [{ Key: 'team', Value: 'mail' }] }));
      const after = Date.now();
      expect(created.$metadata.httpStatusCode).toBe(200);
      expect(created.TenantName).toBe('acme_Corp-1');
      expect(created.TenantId).toMatch(/^tn-[0-9a-f]{24}$/);
      expect(created.TenantArn).toBe(`arn:aws:ses:${REGION}:${ACCOUNT}:tenant/acme_Corp-1/${created.TenantId}`);
      expect(created.SendingStatus).toBe('ENABLED');
      expect(created.Tags).toEqual([{ Key: 'team', Value: 'mail' }]);
      // Epoch seconds on the wire, so the SDK hands back a Date.
      expect(created.CreatedTimestamp).toBeInstanceOf(Date);
      expect(created.CreatedTimestamp!.getTime()).toBeGreaterThanOrEqual(before);
      expect(created.CreatedTimestamp!.getTime()).toBeLessThanOrEqual(after);

      const { Tenant } = await ses.send(new GetTenantCommand({ TenantName: 'acme_Corp-1' }));
      expect(Tenant).toEqual({
        TenantName: 'acme_Corp-1',
        TenantId: created.TenantId,
        TenantArn: created.TenantArn,
        CreatedTimestamp: created.CreatedTimestamp,
        Tags: [{ Key: 'team', Value: 'mail' }],
        SendingStatus: 'ENABLED',
      });

      const listed = await ses.send(new ListTenantsCommand({}));
      expect(listed.Tenants).toEqual([
        {
          TenantName: 'acme_Corp-1',
          TenantId: created.TenantId,
          TenantArn: created.TenantArn,
          CreatedTimestamp: created.CreatedTimestamp,
          SendingStatus: 'ENABLED',
        },
      ]);
      expect(listed.NextToken).toBeUndefined();

      await ses.send(new DeleteTenantCommand({ TenantName: 'acme_Corp-1' }));
      await expect(ses.send(new GetTenantCommand({ TenantName: 'acme_Corp-1' }))).rejects.toMatchObject({
        name: 'NotFoundException',
        message: 'Tenant acme_Corp-1 does not exist',
        $metadata: { httpStatusCode: 404 },
      });
      await expect(ses.send(new DeleteTenantCommand({ TenantName: 'acme_Corp-1' }))).rejects.toMatchObject({ name: 'NotFoundException' });
      expect((await ses.send(new ListTenantsCommand({}))).Tenants).toEqual([]);
    });

    it('refuses a duplicate tenant with AlreadyExistsException', async () => {
      await ses.send(new CreateTenantCommand({ TenantName: 'dup' }));
      await expect(ses.send(new CreateTenantCommand({ TenantName: 'dup' }))).rejects.toMatchObject({
        name: 'AlreadyExistsException',
        message: 'Tenant dup already exists',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it.each([['has space'], ['dots.not.allowed'], ['x'.repeat(65)], ['ümlaut']])('refuses tenant name %j with BadRequestException', async (name) => {
      await expect(ses.send(new CreateTenantCommand({ TenantName: name }))).rejects.toMatchObject({
        name: 'BadRequestException',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('accepts a 64-character tenant name', async () => {
      const name = `A-_9${'z'.repeat(60)}`;
      expect((await ses.send(new CreateTenantCommand({ TenantName: name }))).TenantName).toBe(name);
    });

    it('answers LimitExceededException once maxTenants tenants exist', async () => {
      const limited = await simulator({ maxTenants: 2 });
      // LimitExceeded is a throttling error to the SDK, which would retry it: one attempt only.
      const client = sesClient(limited, { maxAttempts: 1 });
      await client.send(new CreateTenantCommand({ TenantName: 'one' }));
      await client.send(new CreateTenantCommand({ TenantName: 'two' }));
      await expect(client.send(new CreateTenantCommand({ TenantName: 'three' }))).rejects.toMatchObject({
        name: 'LimitExceededException',
        $metadata: { httpStatusCode: 400 },
      });
      await client.send(new DeleteTenantCommand({ TenantName: 'one' }));
      expect((await client.send(new CreateTenantCommand({ TenantName: 'three' }))).TenantName).toBe('three');
    });

    it('filters tenants by name substring', async () => {
      for (const name of ['alpha-shop', 'beta-shop', 'gamma']) await ses.send(new CreateTenantCommand({ TenantName: name }));
      const { Tenants } = await ses.send(new ListTenantsCommand({ Filter: { TENANT_NAME_CONTAINS: 'shop' } }));
      expect(Tenants!.map((tenant) => tenant.TenantName)).toEqual(['alpha-shop', 'beta-shop']);
      await expect(ses.send(new ListTenantsCommand({ Filter: { BOGUS: 'x' } as never }))).rejects.toMatchObject({ name: 'BadRequestException' });
    });
  });

  describe('email identities', () => {
    it('creates a domain identity with three Easy DKIM tokens, PENDING', async () => {
      const created = await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'mail.example.com', Tags: [{ Key: 'env', Value: 'test' }] }));
      expect(created.IdentityType).toBe('DOMAIN');
      expect(created.VerifiedForSendingStatus).toBe(false);
      const dkim = created.DkimAttributes!;
      expect(dkim.Status).toBe('PENDING');
      expect(dkim.SigningEnabled).toBe(true);
      expect(dkim.SigningAttributesOrigin).toBe('AWS_SES');
      expect(dkim.SigningHostedZone).toBe('dkim.amazonses.com');
      expect(dkim.Tokens).toHaveLength(3);
      for (const token of dkim.Tokens!) expect(token).toMatch(/^[a-z0-9]{32}$/);
      expect(new Set(dkim.Tokens).size).toBe(3);
      expect(dkim.LastKeyGenerationTimestamp).toBeInstanceOf(Date);

      const got = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'mail.example.com' }));
      expect(got.IdentityType).toBe('DOMAIN');
      expect(got.VerificationStatus).toBe('PENDING');
      expect(got.VerifiedForSendingStatus).toBe(false);
      expect(got.FeedbackForwardingStatus).toBe(true);
      expect(got.Tags).toEqual([{ Key: 'env', Value: 'test' }]);
      expect(got.DkimAttributes).toEqual(dkim);
      expect(got.MailFromAttributes).toEqual({ BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' });
    });

    it('creates an email address identity without DKIM tokens, and decodes its percent-encoded path label', async () => {
      const address = 'first.last+tag@example.com';
      const created = await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: address }));
      expect(created.IdentityType).toBe('EMAIL_ADDRESS');
      expect(created.VerifiedForSendingStatus).toBe(false);
      expect(created.DkimAttributes?.Tokens).toBeUndefined();
      const got = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: address }));
      expect(got.IdentityType).toBe('EMAIL_ADDRESS');
      expect(got.VerificationStatus).toBe('PENDING');
      await ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: address }));
      await expect(ses.send(new GetEmailIdentityCommand({ EmailIdentity: address }))).rejects.toMatchObject({ name: 'NotFoundException' });
    });

    it.each([['localhost'], ['-bad.example.com'], ['bad_label.example.com'], ['two@@example.com'], ['user@'], ['a b@example.com'], ['example.123']])(
      'refuses identity %j with BadRequestException',
      async (name) => {
        await expect(ses.send(new CreateEmailIdentityCommand({ EmailIdentity: name }))).rejects.toMatchObject({
          name: 'BadRequestException',
          $metadata: { httpStatusCode: 400 },
        });
      },
    );

    it('refuses a duplicate identity, names compared case-insensitively', async () => {
      await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'dup.example.com' }));
      await expect(ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'DUP.example.com' }))).rejects.toMatchObject({
        name: 'AlreadyExistsException',
        message: 'Email identity DUP.example.com already exists',
      });
    });

    it('answers NotFoundException for an unknown identity', async () => {
      await expect(ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'nobody.example.com' }))).rejects.toMatchObject({
        name: 'NotFoundException',
        message: 'Email identity nobody.example.com does not exist',
        $metadata: { httpStatusCode: 404 },
      });
      await expect(ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: 'nobody.example.com' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    });

    it('answers LimitExceededException once maxIdentities identities exist', async () => {
      const limited = await simulator({ maxIdentities: 1 });
      const client = sesClient(limited, { maxAttempts: 1 });
      await client.send(new CreateEmailIdentityCommand({ EmailIdentity: 'one.example.com' }));
      await expect(client.send(new CreateEmailIdentityCommand({ EmailIdentity: 'two.example.com' }))).rejects.toMatchObject({
        name: 'LimitExceededException',
      });
    });

    it('lists identities with filters', async () => {
      for (const name of ['b.example.com', 'a.example.com', 'someone@example.com']) await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: name }));
      const all = await ses.send(new ListEmailIdentitiesCommand({}));
      // SendingEnabled follows verification: nothing here is verified yet.
      expect(all.EmailIdentities).toEqual([
        { IdentityType: 'DOMAIN', IdentityName: 'a.example.com', SendingEnabled: false, VerificationStatus: 'PENDING' },
        { IdentityType: 'DOMAIN', IdentityName: 'b.example.com', SendingEnabled: false, VerificationStatus: 'PENDING' },
        { IdentityType: 'EMAIL_ADDRESS', IdentityName: 'someone@example.com', SendingEnabled: false, VerificationStatus: 'PENDING' },
      ]);
      const addresses = await ses.send(new ListEmailIdentitiesCommand({ Filter: { IDENTITY_TYPE: 'EMAIL_ADDRESS' } }));
      expect(addresses.EmailIdentities!.map((identity) => identity.IdentityName)).toEqual(['someone@example.com']);
    });
  });

  describe('tenant resource associations', () => {
    const domain = 'assoc.example.com';

    beforeEach(async () => {
      await ses.send(new CreateTenantCommand({ TenantName: 'tenant-a' }));
      await ses.send(new CreateTenantCommand({ TenantName: 'tenant-b' }));
      await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    });

    it('associates, lists both ways, refuses duplicates and disassociates', async () => {
      await ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'tenant-a', ResourceArn: identityArn(domain) }));
      await ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'tenant-b', ResourceArn: identityArn(domain) }));
      await expect(ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'tenant-a', ResourceArn: identityArn(domain) }))).rejects.toMatchObject({
        name: 'AlreadyExistsException',
        $metadata: { httpStatusCode: 400 },
      });

      const resources = await ses.send(new ListTenantResourcesCommand({ TenantName: 'tenant-a' }));
      expect(resources.TenantResources).toEqual([{ ResourceType: 'EMAIL_IDENTITY', ResourceArn: identityArn(domain) }]);
      const filtered = await ses.send(new ListTenantResourcesCommand({ TenantName: 'tenant-a', Filter: { RESOURCE_TYPE: 'CONFIGURATION_SET' } }));
      expect(filtered.TenantResources).toEqual([]);

      const tenants = await ses.send(new ListResourceTenantsCommand({ ResourceArn: identityArn(domain) }));
      const tenantA = (await ses.send(new GetTenantCommand({ TenantName: 'tenant-a' }))).Tenant!;
      expect(tenants.ResourceTenants!.map((entry) => entry.TenantName)).toEqual(['tenant-a', 'tenant-b']);
      expect(tenants.ResourceTenants![0]).toMatchObject({ TenantName: 'tenant-a', TenantId: tenantA.TenantId, ResourceArn: identityArn(domain) });
      expect(tenants.ResourceTenants![0]!.AssociatedTimestamp).toBeInstanceOf(Date);

      await ses.send(new DeleteTenantResourceAssociationCommand({ TenantName: 'tenant-a', ResourceArn: identityArn(domain) }));
      expect((await ses.send(new ListTenantResourcesCommand({ TenantName: 'tenant-a' }))).TenantResources).toEqual([]);
      await expect(ses.send(new DeleteTenantResourceAssociationCommand({ TenantName: 'tenant-a', ResourceArn: identityArn(domain) }))).rejects.toMatchObject({
        name: 'NotFoundException',
      });
    });

    it('answers NotFoundException for a missing tenant or resource', async () => {
      await expect(
        ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'no-such-tenant', ResourceArn: identityArn(domain) })),
      ).rejects.toMatchObject({ name: 'NotFoundException', message: 'Tenant no-such-tenant does not exist' });
      await expect(
        ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'tenant-a', ResourceArn: identityArn('missing.example.com') })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });
      // Same identity name, other region: not a resource of this simulator.
      await expect(
        ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'tenant-a', ResourceArn: identityArn(domain, 'us-west-2') })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });
      await expect(ses.send(new ListTenantResourcesCommand({ TenantName: 'no-such-tenant' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    });

    it('DeleteTenant removes its associations but keeps the identity', async () => {
      await ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'tenant-a', ResourceArn: identityArn(domain) }));
      await ses.send(new DeleteTenantCommand({ TenantName: 'tenant-a' }));
      expect((await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).IdentityType).toBe('DOMAIN');
      expect((await ses.send(new ListResourceTenantsCommand({ ResourceArn: identityArn(domain) }))).ResourceTenants).toEqual([]);
      // A re-created tenant of the same name starts without associations.
      await ses.send(new CreateTenantCommand({ TenantName: 'tenant-a' }));
      expect((await ses.send(new ListTenantResourcesCommand({ TenantName: 'tenant-a' }))).TenantResources).toEqual([]);
    });

    it('DeleteEmailIdentity removes the associations that name it', async () => {
      await ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'tenant-a', ResourceArn: identityArn(domain) }));
      await ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: domain }));
      expect((await ses.send(new ListTenantResourcesCommand({ TenantName: 'tenant-a' }))).TenantResources).toEqual([]);
      expect(sim.state().associations).toEqual([]);
    });
  });

  describe('pagination', () => {
    it('pages ListTenants with PageSize and NextToken, and the SDK paginator walks every page', async () => {
      const names = ['t-e', 't-a', 't-d', 't-b', 't-c'];
      for (const name of names) await ses.send(new CreateTenantCommand({ TenantName: name }));

      const first = await ses.send(new ListTenantsCommand({ PageSize: 2 }));
      expect(first.Tenants!.map((tenant) => tenant.TenantName)).toEqual(['t-a', 't-b']);
      expect(first.NextToken).toEqual(expect.any(String));
      // Deleting an item already returned shifts nothing: the token names the last key, not an offset.
      await ses.send(new DeleteTenantCommand({ TenantName: 't-a' }));
      const second = await ses.send(new ListTenantsCommand({ PageSize: 2, NextToken: first.NextToken }));
      expect(second.Tenants!.map((tenant) => tenant.TenantName)).toEqual(['t-c', 't-d']);
      const third = await ses.send(new ListTenantsCommand({ PageSize: 2, NextToken: second.NextToken }));
      expect(third.Tenants!.map((tenant) => tenant.TenantName)).toEqual(['t-e']);
      expect(third.NextToken).toBeUndefined();

      const pages: string[][] = [];
      for await (const page of paginateListTenants({ client: ses, pageSize: 3 }, {})) pages.push(page.Tenants!.map((tenant) => tenant.TenantName!));
      expect(pages).toEqual([['t-b', 't-c', 't-d'], ['t-e']]);
    });

    it('pages ListEmailIdentities, ListTenantResources and ListResourceTenants', async () => {
      const domains = ['d1.example.com', 'd2.example.com', 'd3.example.com'];
      await ses.send(new CreateTenantCommand({ TenantName: 'pager' }));
      await ses.send(new CreateTenantCommand({ TenantName: 'pager-2' }));
      for (const domain of domains) {
        await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
        await ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'pager', ResourceArn: identityArn(domain) }));
      }
      await ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'pager-2', ResourceArn: identityArn('d1.example.com') }));

      const identities1 = await ses.send(new ListEmailIdentitiesCommand({ PageSize: 2 }));
      const identities2 = await ses.send(new ListEmailIdentitiesCommand({ PageSize: 2, NextToken: identities1.NextToken }));
      expect([...identities1.EmailIdentities!, ...identities2.EmailIdentities!].map((identity) => identity.IdentityName)).toEqual(domains);
      expect(identities2.NextToken).toBeUndefined();

      const resources1 = await ses.send(new ListTenantResourcesCommand({ TenantName: 'pager', PageSize: 1 }));
      const resources2 = await ses.send(new ListTenantResourcesCommand({ TenantName: 'pager', PageSize: 2, NextToken: resources1.NextToken }));
      expect([...resources1.TenantResources!, ...resources2.TenantResources!].map((resource) => resource.ResourceArn)).toEqual(
        domains.map((d) => identityArn(d)),
      );
      expect(resources2.NextToken).toBeUndefined();

      const tenants1 = await ses.send(new ListResourceTenantsCommand({ ResourceArn: identityArn('d1.example.com'), PageSize: 1 }));
      expect(tenants1.ResourceTenants!.map((entry) => entry.TenantName)).toEqual(['pager']);
      const tenants2 = await ses.send(
        new ListResourceTenantsCommand({ ResourceArn: identityArn('d1.example.com'), PageSize: 1, NextToken: tenants1.NextToken }),
      );
      expect(tenants2.ResourceTenants!.map((entry) => entry.TenantName)).toEqual(['pager-2']);
      expect(tenants2.NextToken).toBeUndefined();
    });

    it('refuses a bad NextToken, a token from another operation and an out-of-range PageSize', async () => {
      for (const name of ['p1', 'p2']) await ses.send(new CreateTenantCommand({ TenantName: name }));
      const page = await ses.send(new ListTenantsCommand({ PageSize: 1 }));
      await expect(ses.send(new ListTenantsCommand({ NextToken: 'garbage' }))).rejects.toMatchObject({ name: 'BadRequestException' });
      await expect(ses.send(new ListEmailIdentitiesCommand({ NextToken: page.NextToken }))).rejects.toMatchObject({ name: 'BadRequestException' });
      await expect(ses.send(new ListTenantsCommand({ PageSize: 101 }))).rejects.toMatchObject({ name: 'BadRequestException' });
      await expect(ses.send(new ListEmailIdentitiesCommand({ PageSize: 1001 }))).rejects.toMatchObject({ name: 'BadRequestException' });
    });
  });

  describe('tags', () => {
    it('tags, untags and lists tags of tenants and identities by ARN', async () => {
      const tenant = await ses.send(new CreateTenantCommand({ TenantName: 'tagged', Tags: [{ Key: 'a', Value: '1' }] }));
      await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'tagged.example.com' }));

      await ses.send(
        new TagResourceCommand({
          ResourceArn: tenant.TenantArn,
          Tags: [
            { Key: 'a', Value: '2' },
            { Key: 'b c', Value: '' },
          ],
        }),
      );
      expect((await ses.send(new ListTagsForResourceCommand({ ResourceArn: tenant.TenantArn }))).Tags).toEqual([
        { Key: 'a', Value: '2' },
        { Key: 'b c', Value: '' },
      ]);
      await ses.send(new UntagResourceCommand({ ResourceArn: tenant.TenantArn, TagKeys: ['b c', 'not-there'] }));
      expect((await ses.send(new ListTagsForResourceCommand({ ResourceArn: tenant.TenantArn }))).Tags).toEqual([{ Key: 'a', Value: '2' }]);
      expect((await ses.send(new GetTenantCommand({ TenantName: 'tagged' }))).Tenant!.Tags).toEqual([{ Key: 'a', Value: '2' }]);

      const arn = identityArn('tagged.example.com');
      await ses.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: 'owner', Value: 'ops/team:a=1+b-c_d.e f' }] }));
      expect((await ses.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual([{ Key: 'owner', Value: 'ops/team:a=1+b-c_d.e f' }]);
      expect((await ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'tagged.example.com' }))).Tags).toEqual([
        { Key: 'owner', Value: 'ops/team:a=1+b-c_d.e f' },
      ]);
      await ses.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['owner'] }));
      expect((await ses.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual([]);
    });

    it('refuses invalid tags with BadRequestException', async () => {
      const tenant = await ses.send(new CreateTenantCommand({ TenantName: 'tag-rules' }));
      const bad = [
        [{ Key: 'k'.repeat(129), Value: 'v' }],
        [{ Key: 'k', Value: 'v'.repeat(257) }],
        [{ Key: 'aws:reserved', Value: 'v' }],
        [
          { Key: 'same', Value: '1' },
          { Key: 'same', Value: '2' },
        ],
        Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
      ];
      for (const tags of bad) {
        await expect(ses.send(new TagResourceCommand({ ResourceArn: tenant.TenantArn, Tags: tags }))).rejects.toMatchObject({ name: 'BadRequestException' });
        await expect(ses.send(new CreateTenantCommand({ TenantName: 'tag-rules-2', Tags: tags }))).rejects.toMatchObject({ name: 'BadRequestException' });
      }
      // 128-character keys and 256-character values are fine; 50 tags in all too.
      await ses.send(new TagResourceCommand({ ResourceArn: tenant.TenantArn, Tags: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] }));
      await ses.send(new TagResourceCommand({ ResourceArn: tenant.TenantArn, Tags: Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }));
      await expect(ses.send(new TagResourceCommand({ ResourceArn: tenant.TenantArn, Tags: [{ Key: 'one-too-many', Value: 'v' }] }))).rejects.toMatchObject({
        name: 'BadRequestException',
      });
    });

    it('answers NotFound for unknown or stale ARNs and BadRequest for malformed ones', async () => {
      const old = await ses.send(new CreateTenantCommand({ TenantName: 'reborn' }));
      await ses.send(new DeleteTenantCommand({ TenantName: 'reborn' }));
      await ses.send(new CreateTenantCommand({ TenantName: 'reborn' }));
      // The re-created tenant has a new TenantId, so the old ARN names nothing.
      await expect(ses.send(new ListTagsForResourceCommand({ ResourceArn: old.TenantArn }))).rejects.toMatchObject({ name: 'NotFoundException' });
      await expect(ses.send(new ListTagsForResourceCommand({ ResourceArn: identityArn('ghost.example.com') }))).rejects.toMatchObject({
        name: 'NotFoundException',
      });
      await expect(ses.send(new TagResourceCommand({ ResourceArn: 'not-an-arn', Tags: [{ Key: 'k', Value: 'v' }] }))).rejects.toMatchObject({
        name: 'BadRequestException',
      });
    });
  });

  describe('fault injection', () => {
    it('answers TooManyRequestsException (429) beyond the quota', async () => {
      sim.setFaults({ quota: { ratePerSecond: 0.5, burst: 2 } });
      await ses.send(new ListTenantsCommand({}));
      await ses.send(new ListTenantsCommand({}));
      await expect(ses.send(new ListTenantsCommand({}))).rejects.toMatchObject({
        name: 'TooManyRequestsException',
        $metadata: { httpStatusCode: 429 },
      });
      expect(sim.calls().log.map((call) => [call.status, call.error])).toEqual([
        [200, undefined],
        [200, undefined],
        [429, 'TooManyRequestsException'],
      ]);
    });

    it('lets the SDK retry an injected 500 and succeed, one logged call per attempt', async () => {
      const retrying = sesClient(sim, { maxAttempts: 3 });
      sim.setFaults({ failNext: 1 });
      const result = await retrying.send(new CreateTenantCommand({ TenantName: 'retried' }));
      expect(result.TenantName).toBe('retried');
      expect(result.$metadata.attempts).toBe(2);
      const { counts, total, log } = sim.calls();
      expect(counts).toEqual({ CreateTenant: 2 });
      expect(total).toBe(2);
      expect(log.map(({ operation, status, error, target }) => ({ operation, status, error, target }))).toEqual([
        { operation: 'CreateTenant', status: 500, error: 'InternalFailure', target: 'retried' },
        { operation: 'CreateTenant', status: 200, error: undefined, target: 'retried' },
      ]);
      expect(sim.faults().failNext).toBe(0);
    });

    it('fails after maxAttempts when every call errors, and with random throttling', async () => {
      const retrying = sesClient(sim, { maxAttempts: 2 });
      sim.setFaults({ errorFraction: 1 });
      await expect(retrying.send(new ListTenantsCommand({}))).rejects.toMatchObject({
        name: 'InternalFailure',
        $metadata: { httpStatusCode: 500, attempts: 2 },
      });
      expect(sim.calls().counts).toEqual({ ListTenants: 2 });

      sim.setFaults({ throttleFraction: 1 });
      await expect(ses.send(new ListTenantsCommand({}))).rejects.toMatchObject({ name: 'TooManyRequestsException' });
      sim.setFaults({ throttleNext: 1 });
      await expect(ses.send(new ListTenantsCommand({}))).rejects.toMatchObject({ name: 'TooManyRequestsException' });
      await ses.send(new ListTenantsCommand({}));
    });

    it('adds latency to SES calls', async () => {
      sim.setFaults({ latencyMs: 150 });
      const started = performance.now();
      await ses.send(new ListTenantsCommand({}));
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    });
  });

  describe('control interface', () => {
    it('reports calls and state, and does not count itself', async () => {
      const tenant = await ses.send(new CreateTenantCommand({ TenantName: 'ctl', Tags: [{ Key: 'k', Value: 'v' }] }));
      const identity = await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'ctl.example.com' }));
      await ses.send(new CreateTenantResourceAssociationCommand({ TenantName: 'ctl', ResourceArn: identityArn('ctl.example.com') }));
      await expect(ses.send(new GetTenantCommand({ TenantName: 'missing' }))).rejects.toMatchObject({ name: 'NotFoundException' });

      const calls = await control(sim, 'GET', 'calls');
      expect(calls.status).toBe(200);
      expect(calls.body.counts).toEqual({ CreateTenant: 1, CreateEmailIdentity: 1, CreateTenantResourceAssociation: 1, GetTenant: 1 });
      expect(calls.body.total).toBe(4);
      expect(calls.body.log.map((call: any) => [call.seq, call.operation, call.status, call.error ?? null, call.target])).toEqual([
        [1, 'CreateTenant', 200, null, 'ctl'],
        [2, 'CreateEmailIdentity', 200, null, 'ctl.example.com'],
        [3, 'CreateTenantResourceAssociation', 200, null, 'ctl'],
        [4, 'GetTenant', 404, 'NotFoundException', 'missing'],
      ]);
      expect(calls.body.log[2].resourceArn).toBe(identityArn('ctl.example.com'));
      expect(typeof calls.body.log[0].at).toBe('number');
      expect((await control(sim, 'GET', 'calls?since=3')).body.log.map((call: any) => call.seq)).toEqual([4]);

      const state = await control(sim, 'GET', 'state');
      expect(state.body.region).toBe(REGION);
      expect(state.body.tenants).toEqual([
        expect.objectContaining({ name: 'ctl', id: tenant.TenantId, arn: tenant.TenantArn, tags: [{ Key: 'k', Value: 'v' }], sendingStatus: 'ENABLED' }),
      ]);
      expect(state.body.identities).toEqual([
        expect.objectContaining({
          name: 'ctl.example.com',
          type: 'DOMAIN',
          arn: identityArn('ctl.example.com'),
          verificationStatus: 'PENDING',
          dkim: expect.objectContaining({ status: 'PENDING', tokens: identity.DkimAttributes!.Tokens, signingHostedZone: 'dkim.amazonses.com' }),
        }),
      ]);
      expect(state.body.associations).toEqual([
        expect.objectContaining({ tenantName: 'ctl', tenantId: tenant.TenantId, resourceArn: identityArn('ctl.example.com'), resourceType: 'EMAIL_IDENTITY' }),
      ]);
      // None of the control requests above were SES calls.
      expect((await control(sim, 'GET', 'calls')).body.total).toBe(4);
    });

    it('sets, reads and validates faults over HTTP', async () => {
      expect((await control(sim, 'GET', 'faults')).body).toEqual({
        quota: null,
        throttleFraction: 0,
        errorFraction: 0,
        latencyMs: 0,
        throttleNext: 0,
        failNext: 0,
        randomSeed: null,
        firstDkimCheckDelayMs: 0,
        dkimChecksPaused: false,
      });
      const put = await control(sim, 'PUT', 'faults', { quota: { ratePerSecond: 2 }, errorFraction: 0.25 });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({
        quota: { ratePerSecond: 2, burst: 2 },
        throttleFraction: 0,
        errorFraction: 0.25,
        latencyMs: 0,
        throttleNext: 0,
        failNext: 0,
        randomSeed: null,
        firstDkimCheckDelayMs: 0,
        dkimChecksPaused: false,
      });
      expect(sim.faults()).toEqual(put.body);

      for (const bad of [
        { errorFraction: 2 },
        { quota: { ratePerSecond: 0 } },
        { latencyMs: -1 },
        { bogus: true },
        { failNext: 1.5 },
        { dkimChecksPaused: 'yes' },
      ]) {
        const response = await control(sim, 'PUT', 'faults', bad);
        expect(response.status).toBe(400);
        expect(response.body.message).toEqual(expect.any(String));
      }
      expect(sim.faults().errorFraction).toBe(0.25); // a rejected PUT changes nothing

      await control(sim, 'PUT', 'faults', { throttleNext: 1 });
      await expect(ses.send(new ListTenantsCommand({}))).rejects.toMatchObject({ name: 'TooManyRequestsException' });
      expect((await control(sim, 'GET', 'faults')).body.throttleNext).toBe(0);
    });

    it('resets state, calls and faults', async () => {
      await ses.send(new CreateTenantCommand({ TenantName: 'gone' }));
      sim.setFaults({ latencyMs: 5 });
      expect((await control(sim, 'POST', 'reset')).status).toBe(200);
      expect(sim.state()).toMatchObject({ tenants: [], identities: [], associations: [] });
      expect(sim.calls()).toEqual({ counts: {}, countsByRegion: {}, total: 0, log: [] });
      expect(sim.faults().latencyMs).toBe(0);
    });

    it('answers 404 for unknown control paths and UnknownOperationException for unknown SES paths', async () => {
      expect((await control(sim, 'GET', 'nope')).status).toBe(404);
      expect((await control(sim, 'DELETE', 'state')).status).toBe(405);
      const response = await fetch(`${sim.url}/v2/email/nothing-here`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(404);
      expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    });

    it("serves the GET /v2/email/identities listing of AWS's published model (aws command line, older SDKs)", async () => {
      await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'old-sdk.example.com' }));
      const response = await fetch(`${sim.url}/v2/email/identities?PageSize=10`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        EmailIdentities: [{ IdentityType: 'DOMAIN', IdentityName: 'old-sdk.example.com', SendingEnabled: false, VerificationStatus: 'PENDING' }],
      });
    });
  });
});

describe('DKIM verification against a real DNS server (BIND)', () => {
  let dns: DnsServer;

  beforeAll(async () => {
    dns = await startDnsServer();
  });
  afterAll(async () => dns?.stop());

  async function createDomain(sim: SesSimulator, ses: SESv2Client): Promise<{ domain: string; tokens: string[] }> {
    const domain = `${unique('dkim')}.example.test`;
    const created = await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    return { domain, tokens: created.DkimAttributes!.Tokens! };
  }

  const cnames = (domain: string, tokens: string[], zone = 'dkim.amazonses.com') =>
    tokens.map((token) => ({ name: `${token}._domainkey.${domain}`, type: 'CNAME' as const, value: `${token}.${zone}`, ttl: 1 }));

  async function status(ses: SESv2Client, domain: string) {
    const identity = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    return {
      dkim: identity.DkimAttributes!.Status,
      verification: identity.VerificationStatus,
      verifiedForSending: identity.VerifiedForSendingStatus,
      errorType: identity.VerificationInfo?.ErrorType,
    };
  }

  it('goes PENDING -> SUCCESS once all three CNAMEs are published', async () => {
    const sim = await simulator({ dnsServers: [dns.address] });
    const ses = sesClient(sim);
    const { domain, tokens } = await createDomain(sim, ses);

    await sim.checkDkimNow();
    expect(await status(ses, domain)).toEqual({ dkim: 'PENDING', verification: 'PENDING', verifiedForSending: false, errorType: 'HOST_NOT_FOUND' });

    // Upper case and a trailing dot in the published target must not matter.
    const records = cnames(domain, tokens);
    records[0]!.value = `${records[0]!.value.toUpperCase()}.`;
    await publishRecords(dns.address, records);
    await sim.checkDkimNow();
    expect(await status(ses, domain)).toEqual({ dkim: 'SUCCESS', verification: 'SUCCESS', verifiedForSending: true, errorType: undefined });
    const identity = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    expect(identity.VerificationInfo!.LastSuccessTimestamp).toBeInstanceOf(Date);
    expect(identity.VerificationInfo!.LastCheckedTimestamp).toEqual(identity.VerificationInfo!.LastSuccessTimestamp);
    // The state answer keeps when SES first verified it, while later checks move LastSuccessTimestamp on.
    const recorded = () => sim.state().identities.find((record) => record.name === domain)!;
    const { firstSuccessAt } = recorded();
    expect(firstSuccessAt).toBe(recorded().lastSuccessAt);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await sim.checkDkimNow();
    expect(recorded().lastSuccessAt).toBeGreaterThan(firstSuccessAt!);
    expect(recorded().firstSuccessAt).toBe(firstSuccessAt);
    expect((await ses.send(new ListEmailIdentitiesCommand({}))).EmailIdentities).toEqual([
      { IdentityType: 'DOMAIN', IdentityName: domain, SendingEnabled: true, VerificationStatus: 'SUCCESS' },
    ]);
  });

  it('holds a new identity back from its first check for firstDkimCheckDelayMs (a late pass), then checks it as usual', async () => {
    const sim = await simulator({ dnsServers: [dns.address], faults: { firstDkimCheckDelayMs: 300 } });
    const ses = sesClient(sim);
    const { domain, tokens } = await createDomain(sim, ses);
    await publishRecords(dns.address, cnames(domain, tokens));
    await sim.checkDkimNow();
    const held = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    expect(held.DkimAttributes!.Status).toBe('PENDING');
    expect(held.VerificationInfo?.LastCheckedTimestamp).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sim.checkDkimNow();
    expect((await status(ses, domain)).dkim).toBe('SUCCESS');
  });

  it('stays PENDING while one CNAME points to the wrong target', async () => {
    const sim = await simulator({ dnsServers: [dns.address] });
    const ses = sesClient(sim);
    const { domain, tokens } = await createDomain(sim, ses);
    const records = cnames(domain, tokens);
    records[2]!.value = `${tokens[0]}.dkim.amazonses.com`; // another token's target
    await publishRecords(dns.address, records);

    await sim.checkDkimNow();
    expect(await status(ses, domain)).toEqual({ dkim: 'PENDING', verification: 'PENDING', verifiedForSending: false, errorType: 'INVALID_VALUE' });

    await publishRecords(dns.address, cnames(domain, tokens).slice(2));
    await sim.checkDkimNow();
    expect((await status(ses, domain)).dkim).toBe('SUCCESS');
  });

  it('requires the configured SigningHostedZone', async () => {
    const sim = await simulator({ dnsServers: [dns.address], signingHostedZone: 'dkim.example.test' });
    const ses = sesClient(sim);
    const { domain, tokens } = await createDomain(sim, ses);
    expect((await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).DkimAttributes!.SigningHostedZone).toBe('dkim.example.test');

    await publishRecords(dns.address, cnames(domain, tokens)); // dkim.amazonses.com: wrong zone here
    await sim.checkDkimNow();
    expect((await status(ses, domain)).dkim).toBe('PENDING');
    await publishRecords(dns.address, cnames(domain, tokens, 'dkim.example.test'));
    await sim.checkDkimNow();
    expect((await status(ses, domain)).dkim).toBe('SUCCESS');
  });

  it('turns FAILED after dkimFailureAfterMs without the records, and a verified domain stays SUCCESS', async () => {
    const sim = await simulator({ dnsServers: [dns.address], dkimFailureAfterMs: 1_500 });
    const ses = sesClient(sim);
    const createdAt = Date.now();
    const missing = await createDomain(sim, ses);
    const present = await createDomain(sim, ses);
    await publishRecords(dns.address, cnames(present.domain, present.tokens));

    await sim.checkDkimNow();
    expect((await status(ses, missing.domain)).dkim).toBe('PENDING'); // still inside the window
    expect((await status(ses, present.domain)).dkim).toBe('SUCCESS');

    await sleep(Math.max(0, createdAt + 1_600 - Date.now()));
    await sim.checkDkimNow();
    expect(await status(ses, missing.domain)).toEqual({ dkim: 'FAILED', verification: 'FAILED', verifiedForSending: false, errorType: 'HOST_NOT_FOUND' });
    expect((await status(ses, present.domain)).dkim).toBe('SUCCESS');

    // FAILED is final, as in SES: publishing the records late changes nothing.
    await publishRecords(dns.address, cnames(missing.domain, missing.tokens));
    await sim.checkDkimNow();
    expect((await status(ses, missing.domain)).dkim).toBe('FAILED');
    expect((await control(sim, 'POST', 'dkim-check')).body).toEqual({ dkimStatuses: { FAILED: 1, SUCCESS: 1 }, mailFromStatuses: {} });
  });

  it('verifies in the background on its own interval, and stops checking when closed', async () => {
    const sim = await simulator({ dnsServers: [dns.address], dkimCheckIntervalMs: 100 });
    const ses = sesClient(sim);
    const { domain, tokens } = await createDomain(sim, ses);
    await publishRecords(dns.address, cnames(domain, tokens));
    const deadline = Date.now() + 10_000;
    while ((await status(ses, domain)).dkim !== 'SUCCESS') {
      if (Date.now() > deadline) throw new Error(`${domain} was not verified by the background checker within 10 s`);
      await sleep(100);
    }
    await sim.close();
    await expect(ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).rejects.toThrow();
  });

  it("runs no background pass while dkimChecksPaused (a stall in SES's checks), and resumes after it", async () => {
    const sim = await simulator({ dnsServers: [dns.address], dkimCheckIntervalMs: 50 });
    const ses = sesClient(sim);
    const { domain, tokens } = await createDomain(sim, ses);
    await publishRecords(dns.address, cnames(domain, tokens));
    const lastChecked = async () => (await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).VerificationInfo?.LastCheckedTimestamp?.getTime();
    const deadline = Date.now() + 10_000;
    while ((await lastChecked()) === undefined) {
      if (Date.now() > deadline) throw new Error(`${domain} was not checked by the background checker within 10 s`);
      await sleep(50);
    }
    sim.setFaults({ dkimChecksPaused: true });
    await sleep(100); // a pass under way when the fault was set may still finish
    const held = await lastChecked();
    await sleep(400);
    expect(await lastChecked()).toBe(held);
    await sim.checkDkimNow(); // a pass asked for still runs
    const asked = await lastChecked();
    expect(asked).toBeGreaterThan(held!);
    sim.setFaults({ dkimChecksPaused: false });
    await sleep(400);
    expect(await lastChecked()).toBeGreaterThan(asked!);
  });
});

describe('standalone entry point (harness/simulator/main.ts)', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  function run(args: string[]) {
    const child = spawn(process.execPath, ['harness/simulator/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return { child, stderr: () => stderr };
  }

  it('prints {"sesEndpoint"} and serves with the faults given as flags until SIGTERM', async () => {
    const { child } = run(['--port', '0', '--region', 'ap-south-1', '--quota-rps', '5', '--latency-ms', '1', '--dns-server', '127.0.0.1:53']);
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const { sesEndpoint } = JSON.parse(line) as { sesEndpoint: string };
    expect(sesEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const faults = await (await fetch(`${sesEndpoint}/_simulator/faults`)).json();
    expect(faults).toEqual({
      quota: { ratePerSecond: 5, burst: 5 },
      throttleFraction: 0,
      errorFraction: 0,
      latencyMs: 1,
      throttleNext: 0,
      failNext: 0,
      randomSeed: null,
      firstDkimCheckDelayMs: 0,
      dkimChecksPaused: false,
    });
    const client = new SESv2Client({ endpoint: sesEndpoint, region: 'ap-south-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    clients.push(client);
    const created = await client.send(new CreateEmailIdentityCommand({ EmailIdentity: 'cli.example.com' }));
    expect(created.IdentityType).toBe('DOMAIN');
    expect((await client.send(new CreateTenantCommand({ TenantName: 'cli' }))).TenantArn).toMatch(/^arn:aws:ses:ap-south-1:123456789012:tenant\/cli\/tn-/);
    client.destroy();

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it.each([
    [['--port', 'abc'], '--port'],
    [['--throttle-fraction', '1.5'], '--throttle-fraction'],
    [['--dns-server', 'dns.example.com'], '--dns-server'],
    [['--quota-burst', '3'], '--quota-burst'],
    [['--region', 'Mars'], '--region'],
    [['--frobnicate'], '--frobnicate'],
  ])('rejects %j naming the flag', async (args, flag) => {
    const { child, stderr } = run(args);
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr()).toContain(flag);
  });

  it('prints usage for --help', async () => {
    const child = spawn(process.execPath, ['harness/simulator/main.ts', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(stdout).toContain('--dkim-check-interval-ms');
    expect(stdout).toContain('--dns-server');
  });
});

// The simulator driven by an independent client: the `aws` command line, whose SES v2 model is
// AWS's own (botocore's), not this project's. What it sends and how it reads the answers must
// agree with the simulator's state, or the simulator is wrong about SES.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSesSimulator, type SesSimulator } from '../../harness/simulator/server.ts';
import { requireCommand } from '../../harness/stack/commands.ts';

const HOW_TO_INSTALL =
  'This test needs the `aws` command line (aws-cli 1.x with the SES v2 tenant operations, botocore >= 1.43). ' +
  'On these machines it is the Python package installed with `pip install awscli==1.45.11` under pyenv (/root/.pyenv/shims/aws); ' +
  "Debian's awscli package is too old (no tenants).";
const EAST = 'us-east-1';
const WEST = 'eu-west-1';
const SOUTH = 'ap-southeast-2';
const ACCOUNT = '123456789012';
const CLI_TIMEOUT_MS = 240_000;

type CliResult = { ok: true; json: any } | { ok: false; error: string; operation: string; message: string; stderr: string };

let awsPath: string;
let sim: SesSimulator;

let awsMissing: Error | undefined;

beforeAll(async () => {
  awsPath = await requireCommand('aws', HOW_TO_INSTALL).catch((error: Error) => {
    awsMissing = error;
    return '';
  });
  sim = await startSesSimulator({ region: EAST, dkimCheckIntervalMs: 3_600_000, signingHostedZone: 'dkim.{region}.amazonses.com' });
});
afterAll(async () => sim?.close());
beforeEach(() => {
  // Without `aws` every test fails with the reason (a failing beforeAll would only mark them skipped).
  if (awsMissing) throw awsMissing;
  sim.reset();
});

/** One `aws sesv2 ...` command against the simulator, signed for `region`, its JSON output or its error parsed. */
function aws(region: string, args: string[]): Promise<CliResult> {
  // The machine's own AWS settings stay out: only the fixed keys below, no config files, one attempt per command.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  const env = {
    ...inherited,
    AWS_ACCESS_KEY_ID: 'AKIDSIMULATOR',
    AWS_SECRET_ACCESS_KEY: 'simulator-secret',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    AWS_PAGER: '',
  };
  return new Promise((resolve, reject) => {
    execFile(
      awsPath,
      ['--endpoint-url', sim.url, '--region', region, '--output', 'json', 'sesv2', ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (!error) return resolve({ ok: true, json: stdout.trim() === '' ? {} : JSON.parse(stdout) });
        // botocore adds the retry count when max attempts is configured.
        const service = /An error occurred \((\w+)\) when calling the (\w+) operation(?: \(reached max retries: \d+\))?: (.*)/.exec(stderr);
        if (!service) return reject(new Error(`aws ${args.join(' ')} failed without a service error: ${stderr || error.message}`));
        resolve({ ok: false, error: service[1]!, operation: service[2]!, message: service[3]!.trim(), stderr });
      },
    );
  });
}

async function ok(region: string, args: string[]): Promise<any> {
  const result = await aws(region, args);
  if (!result.ok) throw new Error(`aws sesv2 ${args.join(' ')} answered ${result.error}: ${result.message}`);
  return result.json;
}

async function refused(region: string, args: string[]): Promise<{ error: string; operation: string; message: string }> {
  const result = await aws(region, args);
  if (result.ok) throw new Error(`aws sesv2 ${args.join(' ')} succeeded, expected an error: ${JSON.stringify(result.json)}`);
  return { error: result.error, operation: result.operation, message: result.message };
}

const seconds = (ms: number) => ms / 1000;

describe('the aws command line against the simulator', () => {
  it(
    'tenants: create, get, list, delete; AlreadyExists, NotFound and BadRequest as SES names them',
    async () => {
      const created = await ok(WEST, ['create-tenant', '--tenant-name', 'cli_acme', '--tags', 'Key=team,Value=mail']);
      const [stored] = sim.state().regions[WEST]!.tenants;
      expect(created).toEqual({
        TenantName: 'cli_acme',
        TenantId: stored!.id,
        TenantArn: `arn:aws:ses:${WEST}:${ACCOUNT}:tenant/cli_acme/${stored!.id}`,
        CreatedTimestamp: seconds(stored!.createdAt),
        Tags: [{ Key: 'team', Value: 'mail' }],
        SendingStatus: 'ENABLED',
      });
      expect(stored).toMatchObject({ region: WEST, arn: created.TenantArn, tags: [{ Key: 'team', Value: 'mail' }] });

      const [got, listed, duplicate, missing, badName] = await Promise.all([
        ok(WEST, ['get-tenant', '--tenant-name', 'cli_acme']),
        ok(WEST, ['list-tenants']),
        refused(WEST, ['create-tenant', '--tenant-name', 'cli_acme']),
        refused(WEST, ['get-tenant', '--tenant-name', 'nobody']),
        refused(WEST, ['create-tenant', '--tenant-name', 'has space']),
      ]);
      expect(got).toEqual({ Tenant: created });
      expect(listed.Tenants.map((tenant: any) => [tenant.TenantName, tenant.TenantArn])).toEqual([['cli_acme', created.TenantArn]]);
      expect(duplicate).toEqual({ error: 'AlreadyExistsException', operation: 'CreateTenant', message: 'Tenant cli_acme already exists' });
      expect(missing).toEqual({ error: 'NotFoundException', operation: 'GetTenant', message: 'Tenant nobody does not exist' });
      expect(badName).toMatchObject({ error: 'BadRequestException', operation: 'CreateTenant', message: expect.stringContaining('Invalid TenantName') });

      // SES pausing the tenant shows in what the command line reads.
      await sim.setTenantSendingStatus('cli_acme', 'DISABLED', WEST);
      expect((await ok(WEST, ['get-tenant', '--tenant-name', 'cli_acme'])).Tenant.SendingStatus).toBe('DISABLED');

      expect(await ok(WEST, ['delete-tenant', '--tenant-name', 'cli_acme'])).toEqual({});
      expect(sim.state().tenants).toEqual([]);
      expect(sim.calls().counts).toEqual({ CreateTenant: 3, GetTenant: 3, ListTenants: 1, DeleteTenant: 1 });
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'email identities: create with Easy DKIM, get, list (GET /v2/email/identities), delete; the API reference rules',
    async () => {
      const domain = 'mail.cli.example.com';
      const created = await ok(WEST, ['create-email-identity', '--email-identity', domain, '--tags', 'Key=env,Value=test']);
      const identity = sim.state().regions[WEST]!.identities[0]!;
      expect(created).toEqual({
        IdentityType: 'DOMAIN',
        VerifiedForSendingStatus: false,
        DkimAttributes: {
          SigningEnabled: true,
          Status: 'PENDING',
          Tokens: identity.dkim.tokens,
          SigningHostedZone: `dkim.${WEST}.amazonses.com`,
          SigningAttributesOrigin: 'AWS_SES',
          NextSigningKeyLength: 'RSA_2048_BIT',
          CurrentSigningKeyLength: 'RSA_2048_BIT',
          LastKeyGenerationTimestamp: seconds(identity.dkim.keyGeneratedAt),
        },
      });

      const [got, listed, duplicate, notADomain, addressWithDkim] = await Promise.all([
        ok(WEST, ['get-email-identity', '--email-identity', domain]),
        ok(WEST, ['list-email-identities']),
        refused(WEST, ['create-email-identity', '--email-identity', domain.toUpperCase()]),
        refused(WEST, ['create-email-identity', '--email-identity', 'localhost']),
        refused(WEST, ['create-email-identity', '--email-identity', 'me@cli.example.com', '--dkim-signing-attributes', 'NextSigningKeyLength=RSA_1024_BIT']),
      ]);
      expect(got).toMatchObject({
        IdentityType: 'DOMAIN',
        VerifiedForSendingStatus: false,
        VerificationStatus: 'PENDING',
        DkimAttributes: created.DkimAttributes,
        MailFromAttributes: { BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' },
        Tags: [{ Key: 'env', Value: 'test' }],
      });
      expect(listed).toEqual({ EmailIdentities: [{ IdentityType: 'DOMAIN', IdentityName: domain, SendingEnabled: false, VerificationStatus: 'PENDING' }] });
      expect(duplicate).toMatchObject({ error: 'AlreadyExistsException', operation: 'CreateEmailIdentity' });
      expect(notADomain).toMatchObject({ error: 'BadRequestException', message: expect.stringContaining('Invalid email identity') });
      expect(addressWithDkim).toMatchObject({ error: 'BadRequestException', message: expect.stringContaining('DkimSigningAttributes') });
      expect(sim.calls().counts.ListEmailIdentities).toBe(1);

      expect(await ok(WEST, ['delete-email-identity', '--email-identity', domain])).toEqual({});
      expect(await refused(WEST, ['get-email-identity', '--email-identity', domain])).toMatchObject({ error: 'NotFoundException' });
      expect(sim.state().identities).toEqual([]);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'associations and tags: both listings, duplicates, tag rules, untagging, disassociation',
    async () => {
      const domain = 'assoc.cli.example.com';
      const arn = `arn:aws:ses:${WEST}:${ACCOUNT}:identity/${domain}`;
      const [tenant] = await Promise.all([
        ok(WEST, ['create-tenant', '--tenant-name', 'cli-shop']),
        ok(WEST, ['create-email-identity', '--email-identity', domain]),
      ]);
      await ok(WEST, ['create-tenant-resource-association', '--tenant-name', 'cli-shop', '--resource-arn', arn]);
      expect(sim.state().associations).toEqual([
        expect.objectContaining({ region: WEST, tenantName: 'cli-shop', resourceArn: arn, tenantId: tenant.TenantId }),
      ]);

      const [resources, tenants, duplicate, otherRegionArn] = await Promise.all([
        ok(WEST, ['list-tenant-resources', '--tenant-name', 'cli-shop']),
        ok(WEST, ['list-resource-tenants', '--resource-arn', arn]),
        refused(WEST, ['create-tenant-resource-association', '--tenant-name', 'cli-shop', '--resource-arn', arn]),
        refused(WEST, ['create-tenant-resource-association', '--tenant-name', 'cli-shop', '--resource-arn', arn.replace(WEST, EAST)]),
      ]);
      expect(resources).toEqual({ TenantResources: [{ ResourceType: 'EMAIL_IDENTITY', ResourceArn: arn }] });
      expect(tenants.ResourceTenants).toEqual([
        { TenantName: 'cli-shop', TenantId: tenant.TenantId, ResourceArn: arn, AssociatedTimestamp: seconds(sim.state().associations[0]!.associatedAt) },
      ]);
      expect(duplicate).toMatchObject({ error: 'AlreadyExistsException', operation: 'CreateTenantResourceAssociation' });
      expect(otherRegionArn).toMatchObject({ error: 'NotFoundException' });

      await ok(WEST, ['tag-resource', '--resource-arn', tenant.TenantArn, '--tags', 'Key=owner,Value=team/a', 'Key=tier,Value=gold']);
      const [badTag, reservedTag] = await Promise.all([
        refused(WEST, ['tag-resource', '--resource-arn', tenant.TenantArn, '--tags', 'Key=why?,Value=v']),
        refused(WEST, ['tag-resource', '--resource-arn', tenant.TenantArn, '--tags', 'Key=aws:x,Value=v']),
      ]);
      expect(badTag).toMatchObject({ error: 'BadRequestException', operation: 'TagResource' });
      expect(reservedTag).toMatchObject({ error: 'BadRequestException', message: expect.stringContaining('aws:') });
      await ok(WEST, ['untag-resource', '--resource-arn', tenant.TenantArn, '--tag-keys', 'tier', 'not-there']);
      expect(await ok(WEST, ['list-tags-for-resource', '--resource-arn', tenant.TenantArn])).toEqual({ Tags: [{ Key: 'owner', Value: 'team/a' }] });
      expect(sim.state().tenants[0]!.tags).toEqual([{ Key: 'owner', Value: 'team/a' }]);

      await ok(WEST, ['delete-tenant-resource-association', '--tenant-name', 'cli-shop', '--resource-arn', arn]);
      expect(sim.state().associations).toEqual([]);
      expect(await refused(WEST, ['delete-tenant-resource-association', '--tenant-name', 'cli-shop', '--resource-arn', arn])).toMatchObject({
        error: 'NotFoundException',
      });
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'custom MAIL FROM: set, read back, refuse a domain outside the identity, reset',
    async () => {
      const domain = 'mf.cli.example.com';
      await ok(WEST, ['create-email-identity', '--email-identity', domain]);
      await ok(WEST, [
        'put-email-identity-mail-from-attributes',
        '--email-identity',
        domain,
        '--mail-from-domain',
        `bounce.${domain}`,
        '--behavior-on-mx-failure',
        'REJECT_MESSAGE',
      ]);
      const [got, outside, unknownIdentity] = await Promise.all([
        ok(WEST, ['get-email-identity', '--email-identity', domain]),
        refused(WEST, ['put-email-identity-mail-from-attributes', '--email-identity', domain, '--mail-from-domain', 'bounce.elsewhere.com']),
        refused(WEST, ['put-email-identity-mail-from-attributes', '--email-identity', 'nobody.example.com', '--mail-from-domain', 'b.nobody.example.com']),
      ]);
      expect(got.MailFromAttributes).toEqual({ MailFromDomain: `bounce.${domain}`, MailFromDomainStatus: 'PENDING', BehaviorOnMxFailure: 'REJECT_MESSAGE' });
      expect(sim.state().identities[0]!.mailFrom).toMatchObject({ domain: `bounce.${domain}`, status: 'PENDING' });
      expect(outside).toMatchObject({
        error: 'BadRequestException',
        operation: 'PutEmailIdentityMailFromAttributes',
        message: expect.stringContaining('subdomain'),
      });
      expect(unknownIdentity).toMatchObject({ error: 'NotFoundException' });

      await ok(WEST, ['put-email-identity-mail-from-attributes', '--email-identity', domain, '--mail-from-domain', '']);
      expect((await ok(WEST, ['get-email-identity', '--email-identity', domain])).MailFromAttributes).toEqual({ BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' });
      expect(sim.state().identities[0]!.mailFrom).toBeUndefined();
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'injected errors: AccessDenied and ConcurrentModification reach the command line by name, with their text',
    async () => {
      sim.injectError({ operation: 'CreateTenant', error: 'AccessDeniedException', region: WEST });
      sim.injectError({ operation: 'TagResource', error: 'ConcurrentModificationException', count: 1 });
      const [denied, allowedElsewhere] = await Promise.all([
        refused(WEST, ['create-tenant', '--tenant-name', 'denied']),
        ok(SOUTH, ['create-tenant', '--tenant-name', 'denied']),
      ]);
      expect(denied).toEqual({
        error: 'AccessDeniedException',
        operation: 'CreateTenant',
        message: `User: arn:aws:iam::${ACCOUNT}:user/ses-simulator is not authorized to perform: ses:CreateTenant on resource: arn:aws:ses:${WEST}:${ACCOUNT}:tenant/denied because no identity-based policy allows the ses:CreateTenant action`,
      });
      expect(sim.state().regions[WEST]?.tenants ?? []).toEqual([]);
      const conflict = await refused(SOUTH, ['tag-resource', '--resource-arn', allowedElsewhere.TenantArn, '--tags', 'Key=k,Value=v']);
      expect(conflict).toEqual({
        error: 'ConcurrentModificationException',
        operation: 'TagResource',
        message: 'The resource is being modified by another operation or thread.',
      });
      // Granted again: the rule cleared, the same call works.
      sim.clearErrors();
      expect((await ok(WEST, ['create-tenant', '--tenant-name', 'denied'])).TenantArn).toContain(`:${WEST}:`);
      expect(sim.calls().log.map((call) => [call.operation, call.region, call.status])).toEqual(
        expect.arrayContaining([
          ['CreateTenant', WEST, 403],
          ['CreateTenant', SOUTH, 200],
          ['TagResource', SOUTH, 500],
          ['CreateTenant', WEST, 200],
        ]),
      );
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'two regions: the same tenant and identity names in each, ARNs and hosted zones carrying each region',
    async () => {
      const domain = 'two.cli.example.com';
      const [west, south] = await Promise.all([ok(WEST, ['create-tenant', '--tenant-name', 'twin']), ok(SOUTH, ['create-tenant', '--tenant-name', 'twin'])]);
      expect(west.TenantArn).toBe(`arn:aws:ses:${WEST}:${ACCOUNT}:tenant/twin/${west.TenantId}`);
      expect(south.TenantArn).toBe(`arn:aws:ses:${SOUTH}:${ACCOUNT}:tenant/twin/${south.TenantId}`);
      const [westIdentity, southIdentity] = await Promise.all([
        ok(WEST, ['create-email-identity', '--email-identity', domain]),
        ok(SOUTH, ['create-email-identity', '--email-identity', domain]),
      ]);
      expect(westIdentity.DkimAttributes.SigningHostedZone).toBe(`dkim.${WEST}.amazonses.com`);
      expect(southIdentity.DkimAttributes.SigningHostedZone).toBe(`dkim.${SOUTH}.amazonses.com`);

      const [westList, southList, eastList] = await Promise.all([ok(WEST, ['list-tenants']), ok(SOUTH, ['list-tenants']), ok(EAST, ['list-tenants'])]);
      expect(westList.Tenants.map((tenant: any) => tenant.TenantArn)).toEqual([west.TenantArn]);
      expect(southList.Tenants.map((tenant: any) => tenant.TenantArn)).toEqual([south.TenantArn]);
      expect(eastList.Tenants).toEqual([]);

      await ok(SOUTH, ['delete-tenant', '--tenant-name', 'twin']);
      const state = sim.state();
      expect(state.regions[WEST]!.tenants.map((tenant) => tenant.id)).toEqual([west.TenantId]);
      expect(state.regions[SOUTH]!.tenants).toEqual([]);
      expect(state.regions[SOUTH]!.identities.map((identity) => identity.arn)).toEqual([`arn:aws:ses:${SOUTH}:${ACCOUNT}:identity/${domain}`]);
      expect(state.regions[WEST]!.identities[0]!.dkim.tokens).toEqual(westIdentity.DkimAttributes.Tokens);
      expect(state.regions[SOUTH]!.identities[0]!.dkim.tokens).toEqual(southIdentity.DkimAttributes.Tokens);
      expect(sim.calls().countsByRegion).toEqual({
        [WEST]: { CreateTenant: 1, CreateEmailIdentity: 1, ListTenants: 1 },
        [SOUTH]: { CreateTenant: 1, CreateEmailIdentity: 1, ListTenants: 1, DeleteTenant: 1 },
        [EAST]: { ListTenants: 1 },
      });
    },
    CLI_TIMEOUT_MS,
  );
});

import {
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  GetTenantCommand,
  PutEmailIdentityMailFromAttributesCommand,
  TagResourceCommand,
} from '@aws-sdk/client-sesv2';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SesSimulator } from '../../../harness/simulator/server.ts';
import { simulatorHarness } from './sdk-harness.ts';

const harness = simulatorHarness();

describe("rules from SES's API reference, through the real SDK", () => {
  let sim: SesSimulator;
  const ses = () => harness.client(sim);
  beforeAll(async () => {
    sim = await harness.simulator();
  });
  beforeEach(() => sim.reset());

  it('refuses DkimSigningAttributes for an email address and accepts them for a domain', async () => {
    await expect(
      ses().send(new CreateEmailIdentityCommand({ EmailIdentity: 'someone@example.com', DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' } })),
    ).rejects.toMatchObject({ name: 'BadRequestException', message: 'DkimSigningAttributes can only be given for a domain identity, not an email address' });
    expect(sim.state().identities).toEqual([]);
    const domain = await ses().send(
      new CreateEmailIdentityCommand({ EmailIdentity: 'k.example.com', DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' } }),
    );
    expect(domain.DkimAttributes!.NextSigningKeyLength).toBe('RSA_1024_BIT');
  });

  it('keeps valid tenant SuppressionAttributes and refuses values outside their enums', async () => {
    const created = await ses().send(
      new CreateTenantCommand({ TenantName: 'sup', SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'], SuppressionScope: 'TENANT' } }),
    );
    expect(created.SuppressionAttributes).toEqual({ SuppressedReasons: ['BOUNCE', 'COMPLAINT'], SuppressionScope: 'TENANT' });
    expect((await ses().send(new GetTenantCommand({ TenantName: 'sup' }))).Tenant!.SuppressionAttributes).toEqual(created.SuppressionAttributes);
    for (const bad of [{ SuppressedReasons: ['SPAM'] }, { SuppressionScope: 'GLOBAL' }, { SuppressedReasons: 'BOUNCE' }]) {
      await expect(ses().send(new CreateTenantCommand({ TenantName: 'sup-2', SuppressionAttributes: bad as never }))).rejects.toMatchObject({
        name: 'BadRequestException',
        message: expect.stringMatching(/SuppressionAttributes\.(SuppressedReasons|SuppressionScope)/),
      });
    }
  });

  it.each([
    [{ Key: 'emoji🙂', Value: 'v' }],
    [{ Key: 'k', Value: 'a&b' }],
    [{ Key: 'k', Value: 'why?' }],
    [{ Key: 'k', Value: 'aws:reserved' }],
    [{ Key: 'k#hash', Value: 'v' }],
  ])('refuses the tag %j: outside the documented character set or reserved', async (tag) => {
    const tenant = await ses().send(new CreateTenantCommand({ TenantName: 'tags' }));
    await expect(ses().send(new TagResourceCommand({ ResourceArn: tenant.TenantArn, Tags: [tag] }))).rejects.toMatchObject({ name: 'BadRequestException' });
  });

  it('accepts Unicode letters, digits, white space and _ . : / = + - in tags', async () => {
    const tenant = await ses().send(new CreateTenantCommand({ TenantName: 'tags' }));
    const tags = [
      { Key: 'Größe Ä1', Value: 'wert: 2/3 = x+y_z.-' },
      { Key: 'ses.channels.dev/owner-uid', Value: '5f0c6a1e-1b2c-4d3e-8f9a-0b1c2d3e4f5a' },
    ];
    await ses().send(new TagResourceCommand({ ResourceArn: tenant.TenantArn, Tags: tags }));
    expect(sim.state().tenants[0]!.tags).toEqual(tags);
  });

  it('takes a MAIL FROM domain only below the identity, only known behaviours, only for an identity that exists', async () => {
    await ses().send(new CreateEmailIdentityCommand({ EmailIdentity: 'mf.example.com' }));
    await ses().send(new CreateEmailIdentityCommand({ EmailIdentity: 'me@mail.example.org' }));
    const put = (EmailIdentity: string, MailFromDomain?: string, BehaviorOnMxFailure?: string) =>
      ses().send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity, MailFromDomain, BehaviorOnMxFailure: BehaviorOnMxFailure as never }));
    await expect(put('mf.example.com', 'mf.example.com')).rejects.toMatchObject({
      name: 'BadRequestException',
      message: expect.stringContaining('subdomain of mf.example.com'),
    });
    await expect(put('mf.example.com', 'bounce.other.com')).rejects.toMatchObject({ name: 'BadRequestException' });
    await expect(put('mf.example.com', 'bad_label.mf.example.com')).rejects.toMatchObject({ name: 'BadRequestException' });
    await expect(put('mf.example.com', 'b.mf.example.com', 'BOUNCE')).rejects.toMatchObject({
      name: 'BadRequestException',
      message: expect.stringContaining('USE_DEFAULT_VALUE, REJECT_MESSAGE'),
    });
    await expect(put('missing.example.com', 'b.missing.example.com')).rejects.toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
    // An address's MAIL FROM is a subdomain of its domain.
    await put('me@mail.example.org', 'bounce.mail.example.org');
    expect(sim.state().identities.find((identity) => identity.name === 'me@mail.example.org')!.mailFrom).toMatchObject({
      domain: 'bounce.mail.example.org',
      status: 'PENDING',
    });
    expect(sim.calls().log.at(-1)).toMatchObject({ operation: 'PutEmailIdentityMailFromAttributes', target: 'me@mail.example.org' });
  });
});

import { describe, expect, it } from 'vitest';
import { claimEvent, refusedClaim, type Claim } from '../../../../../src/controllers/sessetup/steps/claim.ts';

const tenant = (over: Partial<Claim>): Claim => ({
  kind: 'tenant',
  name: 'acme',
  region: 'eu-west-1',
  created: true,
  adopted: false,
  recorded: undefined,
  namesRegion: true,
  ...over,
});
const identity = (over: Partial<Claim>): Claim => ({
  kind: 'identity',
  name: 'mail.example.test',
  region: 'eu-west-1',
  created: true,
  adopted: false,
  recorded: undefined,
  namesRegion: false,
  afterRecreate: 'It has new DKIM tokens: publish the DKIM records in status.dnsRecords again',
  ...over,
});

describe('claim: the verdict and Event of the tenant and identity steps', () => {
  it('says how a tenant was claimed, naming its region', () => {
    expect(claimEvent(tenant({}))).toEqual({ type: 'Normal', reason: 'TenantReady', message: 'SES tenant acme created in eu-west-1' });
    expect(claimEvent(tenant({ created: false }))).toEqual({
      type: 'Normal',
      reason: 'TenantReady',
      message: 'SES tenant acme found (created earlier by this SesSetup) in eu-west-1',
    });
    expect(claimEvent(tenant({ created: false, adopted: true }))).toEqual({
      type: 'Normal',
      reason: 'TenantAdopted',
      message: 'SES tenant acme adopted in eu-west-1',
    });
  });

  it('says how an identity was claimed, without the region', () => {
    expect(claimEvent(identity({}))).toEqual({ type: 'Normal', reason: 'IdentityReady', message: 'SES identity mail.example.test created' });
    expect(claimEvent(identity({ created: false, adopted: true }))).toEqual({
      type: 'Normal',
      reason: 'IdentityAdopted',
      message: 'SES identity mail.example.test adopted',
    });
  });

  it('warns when what status recorded had to be created again, with what the person must redo', () => {
    expect(claimEvent(tenant({ recorded: { name: 'acme', arn: 'arn:t' } }))).toEqual({
      type: 'Warning',
      reason: 'TenantRecreated',
      message: 'SES tenant acme was deleted outside the operator; created it again in eu-west-1, tagged as before',
    });
    expect(claimEvent(identity({ recorded: { name: 'mail.example.test', arn: 'arn:i' } }))).toEqual({
      type: 'Warning',
      reason: 'IdentityRecreated',
      message:
        'SES identity mail.example.test was deleted outside the operator; created it again in eu-west-1, tagged as before. ' +
        'It has new DKIM tokens: publish the DKIM records in status.dnsRecords again',
    });
  });

  it('does not call a first creation a re-creation: status recorded another name, or no ARN yet', () => {
    expect(claimEvent(tenant({ recorded: { name: 'old-name', arn: 'arn:t' } })).reason).toBe('TenantReady');
    expect(claimEvent(identity({ recorded: { name: 'mail.example.test' } })).reason).toBe('IdentityReady');
  });

  it('refuses with the same words in the kind verdict and Stalled, and stops the chain', () => {
    const refusal = { reason: 'IdentityNotOwned', message: 'SES identity "mail.example.test" already exists' };
    expect(refusedClaim('identity', refusal)).toEqual({
      verdicts: { identity: { ok: false, ...refusal }, stalled: refusal },
      stop: true,
    });
  });
});

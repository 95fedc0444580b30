import { describe, expect, it } from 'vitest';
import type { SesSetup } from '../../../../src/api/sessetup.ts';
import { ClaimIndex, claimKey } from '../../../../src/controllers/sessetup/claims.ts';
import { newSetup } from './fixture.ts';

const LATER = '2026-11-28T11:00:00Z';

function holdingTenant(setup: SesSetup): SesSetup {
  return { ...setup, status: { tenant: { name: setup.spec.tenantName, arn: `arn:aws:ses:eu-west-1:1:tenant/${setup.spec.tenantName}/t` } } };
}

describe('ClaimIndex', () => {
  it('a setup alone holds its claims', () => {
    const claims = new ClaimIndex();
    const only = newSetup('only');
    expect(claims.set(only)).toEqual([]);
    expect(claims.conflictFor(only)).toBeUndefined();
  });

  it('the older setup keeps a tenant name, then the name decides within a second', () => {
    const claims = new ClaimIndex();
    const old = newSetup('old', { tenantName: 'shared' });
    const young = newSetup('young', { tenantName: 'shared' }, LATER);
    const twin = newSetup('a-twin', { tenantName: 'shared' }, LATER);
    claims.set(old);
    expect(claims.set(young)).toEqual(['old']);
    expect(claims.set(twin).sort()).toEqual(['old', 'young']);
    expect(claims.conflictFor(old)).toBeUndefined();
    expect(claims.conflictFor(young)).toEqual({ field: 'tenantName', holder: 'old' });
    claims.remove('old');
    expect(claims.conflictFor(young)).toEqual({ field: 'tenantName', holder: 'a-twin' });
    expect(claims.conflictFor(twin)).toBeUndefined();
  });

  it('a setup that holds the resource in SES keeps it against an older one', () => {
    const claims = new ClaimIndex();
    const old = newSetup('old', { domainIdentity: 'shared.example.test' });
    const holder = holdingTenant(newSetup('holder', { domainIdentity: 'shared.example.test' }, LATER));
    const holderOfDomain: SesSetup = { ...holder, status: { identity: { name: 'shared.example.test', dkimTokens: ['a', 'b', 'c'] } } };
    claims.set(old);
    claims.set(holderOfDomain);
    expect(claims.conflictFor(old)).toEqual({ field: 'domainIdentity', holder: 'holder' });
    expect(claims.conflictFor(holderOfDomain)).toBeUndefined();
  });

  it('removing a holder names the setups left waiting on its claims, and frees the claim when it was the last', () => {
    const claims = new ClaimIndex();
    claims.set(newSetup('a', { tenantName: 'shared', domainIdentity: 'a.example.test' }));
    claims.set(newSetup('b', { tenantName: 'shared', domainIdentity: 'b.example.test' }, LATER));
    claims.set(newSetup('c', { tenantName: 'shared', domainIdentity: 'b.example.test' }, LATER));
    expect(claims.remove('a')).toEqual(['b', 'c']);
    expect(claims.remove('b')).toEqual(['c', 'c']);
    expect(claims.remove('c')).toEqual([]);
    expect(claims.remove('c')).toEqual([]);
    const fresh = newSetup('fresh', { tenantName: 'shared', domainIdentity: 'b.example.test' }, '2026-11-28T12:00:00Z');
    expect(claims.set(fresh)).toEqual([]);
    expect(claims.conflictFor(fresh)).toBeUndefined();
  });

  it('a setup that changes its claims leaves the old ones and wakes their holders', () => {
    const claims = new ClaimIndex();
    const first = newSetup('first', { tenantName: 'one' });
    claims.set(first);
    claims.set(newSetup('second', { tenantName: 'one' }, LATER));
    expect(claims.set({ ...first, spec: { ...first.spec, tenantName: 'two' } })).toEqual(['second']);
    expect(claims.conflictFor(newSetup('second', { tenantName: 'one' }, LATER))).toBeUndefined();
  });

  it('claimKey changes with the claims and with holding them, not with anything else', () => {
    const setup = newSetup('s');
    expect(claimKey({ ...setup, status: { dnsVerified: true } })).toBe(claimKey(setup));
    expect(claimKey(holdingTenant(setup))).not.toBe(claimKey(setup));
    expect(claimKey({ ...setup, spec: { ...setup.spec, domainIdentity: 'other.example.test' } })).not.toBe(claimKey(setup));
  });
});

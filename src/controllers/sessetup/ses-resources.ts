import { OWNER_NAME_TAG, OWNER_UID_TAG } from '../../api/group.ts';
import { SesError, identityArn, type SesCallOptions, type SesGateway, type SesIdentity, type SesTenant } from '../../ses/gateway.ts';

/** Who the SES resources belong to: the SesSetup's UID is the proof, its name a hint for people. */
export interface Owner {
  uid: string;
  name: string;
  adopt: boolean;
}

export type Ensured<T> =
  { ok: true; value: T; created: boolean; adopted: boolean } | { ok: false; reason: 'TenantNotOwned' | 'IdentityNotOwned'; message: string };

export function ownerTags(owner: Owner): Record<string, string> {
  return { [OWNER_UID_TAG]: owner.uid, [OWNER_NAME_TAG]: owner.name };
}

/**
 * Creates the tenant, or on AlreadyExists reads it and continues only if it carries our UID
 * (a crash between "created in SES" and "written to status") or adoption was asked for.
 * Never a Get before the Create: the common path costs exactly one call.
 */
export function ensureTenant(ses: SesGateway, region: string, name: string, owner: Owner, options?: SesCallOptions): Promise<Ensured<SesTenant>> {
  return createOrClaim({
    create: () => ses.createTenant(region, name, ownerTags(owner), options),
    read: () => ses.getTenant(region, name, options),
    arnOf: (tenant) => tenant.arn,
    tag: (arn) => ses.tagResource(region, arn, ownerTags(owner), options),
    owner,
    what: `tenant ${name}`,
    notOwned: (tags) => ({
      reason: 'TenantNotOwned',
      message:
        `SES tenant "${name}" already exists in ${region} and was not created by this SesSetup (${describeOwner(tags)}). ` +
        'Nothing was changed. Choose another tenantName, or set spec.adoptionPolicy: Adopt to take it over.',
    }),
  });
}

export function ensureIdentity(
  ses: SesGateway,
  region: string,
  domain: string,
  tenantArn: string,
  owner: Owner,
  options?: SesCallOptions,
): Promise<Ensured<SesIdentity>> {
  return createOrClaim({
    create: () => ses.createEmailIdentity(region, domain, ownerTags(owner), options),
    read: () => ses.getEmailIdentity(region, domain, options),
    arnOf: () => identityArn(tenantArn, domain),
    tag: (arn) => ses.tagResource(region, arn, ownerTags(owner), options),
    owner,
    what: `identity ${domain}`,
    notOwned: (tags) => ({
      reason: 'IdentityNotOwned',
      message:
        `SES identity "${domain}" already exists in ${region} and was not created by this SesSetup (${describeOwner(tags)}). ` +
        'Nothing was changed. Set spec.adoptionPolicy: Adopt to take it over.',
    }),
  });
}

/** Create; on AlreadyExists read it back: ours by its UID tag, adopted when asked (tagging it), else refused untouched. */
async function createOrClaim<T extends { tags: Record<string, string> }>(o: {
  create: () => Promise<T>;
  read: () => Promise<T | undefined>;
  arnOf: (existing: T) => string | undefined;
  tag: (arn: string) => Promise<void>;
  owner: Owner;
  what: string;
  notOwned: (tags: Record<string, string>) => { reason: 'TenantNotOwned' | 'IdentityNotOwned'; message: string };
}): Promise<Ensured<T>> {
  try {
    return { ok: true, value: await o.create(), created: true, adopted: false };
  } catch (error) {
    if (!(error instanceof SesError && error.kind === 'AlreadyExists')) throw error;
  }
  const existing = await o.read();
  if (!existing) throw new SesError('Other', 'Get', `${o.what} was reported to exist but cannot be read; will retry`, 5_000);
  if (existing.tags[OWNER_UID_TAG] === o.owner.uid) return { ok: true, value: existing, created: false, adopted: false };
  const arn = o.arnOf(existing);
  if (!o.owner.adopt || !arn) return { ok: false, ...o.notOwned(existing.tags) };
  await o.tag(arn);
  return { ok: true, value: { ...existing, tags: { ...existing.tags, ...ownerTags(o.owner) } }, created: false, adopted: true };
}

function describeOwner(tags: Record<string, string>): string {
  const uid = tags[OWNER_UID_TAG];
  if (!uid) return 'it has no ses-operator owner tag';
  return `it belongs to SesSetup ${tags[OWNER_NAME_TAG] ?? '?'} with UID ${uid}`;
}

/** What teardown did, for events and tests. */
export interface Teardown {
  identity: 'deleted' | 'absent' | 'not-owned';
  tenant: 'deleted' | 'absent' | 'not-owned';
}

/**
 * Deletion in the documented order (docs/operations.md): disassociate, delete the identity, delete the tenant; each
 * resource only after reading it back and finding our UID tag, so nothing foreign is ever deleted.
 * A name not known (never recorded, and not one SES could accept) is skipped.
 */
export async function tearDown(
  ses: SesGateway,
  region: string,
  tenantName: string | undefined,
  domain: string | undefined,
  ownerUid: string,
  options?: SesCallOptions,
): Promise<Teardown> {
  const result: Teardown = { identity: 'absent', tenant: 'absent' };
  const tenant = tenantName === undefined ? undefined : await ses.getTenant(region, tenantName, options);
  const tenantIsOurs = tenant?.tags[OWNER_UID_TAG] === ownerUid;
  const identity = domain === undefined ? undefined : await ses.getEmailIdentity(region, domain, options);
  if (identity && domain !== undefined) {
    if (identity.tags[OWNER_UID_TAG] === ownerUid) {
      if (tenantIsOurs && tenant?.arn) await ses.disassociate(region, tenantName!, identityArn(tenant.arn, domain), options);
      await ses.deleteEmailIdentity(region, domain, options);
      result.identity = 'deleted';
    } else {
      result.identity = 'not-owned';
    }
  }
  if (tenant) {
    if (tenantIsOurs) {
      await ses.deleteTenant(region, tenantName!, options);
      result.tenant = 'deleted';
    } else {
      result.tenant = 'not-owned';
    }
  }
  return result;
}

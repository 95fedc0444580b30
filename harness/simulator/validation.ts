import { badRequest } from './errors.ts';

/** SES's documented tenant name rule: up to 64 letters, digits, hyphens and underscores. */
const TENANT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const DOMAIN_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
/** RFC 5322 "atext" plus dots; quoted local parts are not worth simulating. */
const EMAIL_LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

export const MAX_TAGS_PER_RESOURCE = 50;
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;
/** The Tag page of the SES API reference: Unicode letters, digits, white space and `_ . : / = + -`. */
const TAG_CHARACTERS = /^[\p{L}\p{N}\p{Z}\t_.:/=+-]*$/u;
const SUPPRESSION_REASONS = ['BOUNCE', 'COMPLAINT'] as const;
const SUPPRESSION_SCOPES = ['TENANT', 'ACCOUNT'] as const;
export const BEHAVIORS_ON_MX_FAILURE = ['USE_DEFAULT_VALUE', 'REJECT_MESSAGE'] as const;

export type IdentityType = 'DOMAIN' | 'EMAIL_ADDRESS';

export interface Tag {
  Key: string;
  Value: string;
}

export function validateTenantName(value: unknown): string {
  const name = requireString(value, 'TenantName');
  if (!TENANT_NAME.test(name)) {
    throw badRequest(`Invalid TenantName "${name}": use 1 to 64 letters, digits, hyphens (-) or underscores (_)`);
  }
  return name;
}

export function isDomainName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  const labels = bare.split('.');
  // A single label ("localhost") is not a domain SES can verify, and the TLD is never all digits.
  if (labels.length < 2 || /^\d+$/.test(labels.at(-1)!)) return false;
  return labels.every((label) => DOMAIN_LABEL.test(label));
}

export function isEmailAddress(name: string): boolean {
  const at = name.lastIndexOf('@');
  if (at <= 0 || name.length > 320) return false;
  const local = name.slice(0, at);
  return local.length <= 64 && EMAIL_LOCAL_PART.test(local) && isDomainName(name.slice(at + 1));
}

/** An email identity is either a domain or an address, as in SES; anything else is a BadRequest. */
export function classifyEmailIdentity(value: unknown): { name: string; type: IdentityType } {
  const name = requireString(value, 'EmailIdentity');
  if (name.includes('@')) {
    if (isEmailAddress(name)) return { name, type: 'EMAIL_ADDRESS' };
  } else if (isDomainName(name) && !name.endsWith('.')) {
    return { name, type: 'DOMAIN' };
  }
  throw badRequest(`Invalid email identity "${name}": expected a domain name or an email address`);
}

/** Checks a Tags list as SES does: keys 1-128 characters, values up to 256, no duplicates, at most 50. */
export function validateTags(value: unknown, field = 'Tags'): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest(`${field} must be a list of {Key, Value}`);
  if (value.length > MAX_TAGS_PER_RESOURCE) throw badRequest(`Too many tags: at most ${MAX_TAGS_PER_RESOURCE} per resource`);
  const seen = new Set<string>();
  return value.map((entry: unknown) => {
    const tag = (entry ?? {}) as { Key?: unknown; Value?: unknown };
    const key = validateTagKey(tag.Key);
    if (tag.Value !== undefined && typeof tag.Value !== 'string') throw badRequest(`Tag value for "${key}" must be a string`);
    const tagValue = tag.Value ?? '';
    if (tagValue.length > MAX_TAG_VALUE_LENGTH) {
      throw badRequest(`Tag value for "${key}" is longer than ${MAX_TAG_VALUE_LENGTH} characters`);
    }
    if (!TAG_CHARACTERS.test(tagValue)) {
      throw badRequest(`Tag value for "${key}" may hold only letters, digits, white space and _ . : / = + -, got ${JSON.stringify(tagValue)}`);
    }
    if (tagValue.toLowerCase().startsWith('aws:')) throw badRequest(`Tag values must not start with "aws:" (reserved), got "${tagValue}"`);
    if (seen.has(key)) throw badRequest(`Duplicate tag key "${key}"`);
    seen.add(key);
    return { Key: key, Value: tagValue };
  });
}

export function validateTagKey(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TAG_KEY_LENGTH) {
    throw badRequest(`Tag keys must be 1 to ${MAX_TAG_KEY_LENGTH} characters, got ${JSON.stringify(value ?? null)}`);
  }
  if (!TAG_CHARACTERS.test(value)) {
    throw badRequest(`Tag keys may hold only letters, digits, white space and _ . : / = + -, got ${JSON.stringify(value)}`);
  }
  if (value.toLowerCase().startsWith('aws:')) throw badRequest(`Tag keys must not start with "aws:" (reserved), got "${value}"`);
  return value;
}

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw badRequest(`${field} is required`);
  return value;
}

/** PageSize as SES bounds it per operation; undefined means the operation's default. */
export function validatePageSize(value: unknown, bounds: { min: number; max: number; default: number }): number {
  if (value === undefined || value === null) return bounds.default;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw badRequest(`PageSize must be a whole number from ${bounds.min} to ${bounds.max}, got ${JSON.stringify(value)}`);
  }
  // ListEmailIdentities accepts 0; an empty page would never advance, so it means "the default".
  return value === 0 ? bounds.default : value;
}

/** CreateTenant's SuppressionAttributes: SuppressedReasons from BOUNCE / COMPLAINT, SuppressionScope TENANT or ACCOUNT. */
export function validateSuppressionAttributes(
  value: unknown,
): { SuppressedReasons?: ('BOUNCE' | 'COMPLAINT')[]; SuppressionScope?: 'TENANT' | 'ACCOUNT' } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('SuppressionAttributes must be an object');
  const { SuppressedReasons: reasons, SuppressionScope: scope, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw badRequest(`Unknown SuppressionAttributes field "${extra}": expected SuppressedReasons, SuppressionScope`);
  const out: { SuppressedReasons?: ('BOUNCE' | 'COMPLAINT')[]; SuppressionScope?: 'TENANT' | 'ACCOUNT' } = {};
  if (reasons !== undefined && reasons !== null) {
    if (!Array.isArray(reasons)) throw badRequest('SuppressionAttributes.SuppressedReasons must be a list');
    out.SuppressedReasons = reasons.map((reason: unknown) => oneOf(reason, SUPPRESSION_REASONS, 'SuppressionAttributes.SuppressedReasons'));
  }
  if (scope !== undefined && scope !== null) out.SuppressionScope = oneOf(scope, SUPPRESSION_SCOPES, 'SuppressionAttributes.SuppressionScope');
  return out;
}

/** A value from an SES enum, or a BadRequest naming the field and the values allowed. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw badRequest(`Invalid ${field} ${JSON.stringify(value ?? null)}: expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/**
 * PutEmailIdentityMailFromAttributes: the MAIL FROM domain "has to be a subdomain of the verified
 * identity" (of an address's domain for an email address). Undefined or empty resets it.
 */
export function validateMailFromDomain(value: unknown, identity: { name: string; type: IdentityType }): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest('MailFromDomain must be a string');
  const parent = (identity.type === 'DOMAIN' ? identity.name : identity.name.slice(identity.name.lastIndexOf('@') + 1)).toLowerCase();
  if (!isDomainName(value) || value.endsWith('.')) throw badRequest(`Invalid MailFromDomain "${value}": expected a domain name`);
  if (!value.toLowerCase().endsWith(`.${parent}`)) {
    throw badRequest(`Invalid MailFromDomain "${value}": it has to be a subdomain of ${parent}`);
  }
  return value;
}

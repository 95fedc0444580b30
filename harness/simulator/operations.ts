import { alreadyExists, badRequest, limitExceeded, notFound } from './errors.ts';
import { dkimToken, tenantId } from './ids.ts';
import { paginate } from './pagination.ts';
import { ACCOUNT_ID, type AssociationRecord, type IdentityRecord, type SigningKeyLength, type SimulatorState, type TenantRecord } from './state.ts';
import {
  BEHAVIORS_ON_MX_FAILURE,
  classifyEmailIdentity,
  MAX_TAGS_PER_RESOURCE,
  oneOf,
  requireString,
  validateMailFromDomain,
  validatePageSize,
  validateSuppressionAttributes,
  validateTagKey,
  validateTags,
  validateTenantName,
  type Tag,
} from './validation.ts';

export const OPERATION_NAMES = [
  'CreateTenant',
  'GetTenant',
  'DeleteTenant',
  'ListTenants',
  'CreateTenantResourceAssociation',
  'DeleteTenantResourceAssociation',
  'ListTenantResources',
  'ListResourceTenants',
  'CreateEmailIdentity',
  'GetEmailIdentity',
  'DeleteEmailIdentity',
  'ListEmailIdentities',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
  'PutEmailIdentityMailFromAttributes',
] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

/** One decoded request: the JSON body, the percent-decoded path labels and the query string. */
export interface OperationRequest {
  body: Record<string, unknown>;
  labels: Record<string, string>;
  query: URLSearchParams;
}

export type OperationHandler = (request: OperationRequest) => Record<string, unknown>;

export interface OperationSettings {
  /**
   * Where Easy DKIM CNAMEs must point: `<token>.<signingHostedZone>` (SES: dkim.amazonses.com);
   * `{region}` in it stands for the region the identity lives in.
   */
  signingHostedZone: string;
  maxTenants: number;
  maxIdentities: number;
  now?: () => number;
}

// The SES API reference bounds: tenant lists 1-100, ListEmailIdentities 0-1000.
const TENANT_PAGE = { min: 1, max: 100, default: 100 };
const IDENTITY_PAGE = { min: 0, max: 1000, default: 100 };
const RESOURCE_TYPES = ['EMAIL_IDENTITY', 'CONFIGURATION_SET', 'EMAIL_TEMPLATE'];
const KEY_LENGTHS: SigningKeyLength[] = ['RSA_1024_BIT', 'RSA_2048_BIT'];

/** SES timestamps are epoch seconds on the wire (the SDK's parser rejects ISO strings there). */
const epochSeconds = (ms: number) => ms / 1000;

type Resource = { kind: 'tenant'; tenant: TenantRecord } | { kind: 'identity'; identity: IdentityRecord };

/** The SES operations over one region of the simulated account, each a function from request to response body. */
export function createOperations(state: SimulatorState, settings: OperationSettings): Record<OperationName, OperationHandler> {
  const now = settings.now ?? Date.now;

  function requireTenant(value: unknown): TenantRecord {
    const name = validateTenantName(value);
    const tenant = state.tenants.get(name);
    if (!tenant) throw notFound(`Tenant ${name} does not exist`);
    return tenant;
  }

  function requireIdentity(value: unknown): IdentityRecord {
    const name = requireString(value, 'EmailIdentity');
    const identity = state.getIdentity(name);
    if (!identity) throw notFound(`Email identity ${name} does not exist`);
    return identity;
  }

  /** Finds the resource an ARN names in this account and region; other ARNs name nothing that exists here. */
  function resolveResource(value: unknown): Resource {
    const arn = requireString(value, 'ResourceArn');
    const match = /^arn:aws[a-z-]*:ses:([a-z0-9-]+):(\d{12}):([a-z-]+)\/(.+)$/.exec(arn);
    if (!match) throw badRequest(`Invalid ResourceArn "${arn}"`);
    const [, region, account, type, rest] = match as unknown as [string, string, string, string, string];
    if (region === state.region && account === ACCOUNT_ID) {
      if (type === 'identity') {
        const identity = state.getIdentity(rest);
        if (identity) return { kind: 'identity', identity };
      } else if (type === 'tenant') {
        const slash = rest.lastIndexOf('/');
        const tenant = slash > 0 ? state.tenants.get(rest.slice(0, slash)) : undefined;
        if (tenant && tenant.id === rest.slice(slash + 1)) return { kind: 'tenant', tenant };
      }
    }
    throw notFound(`Resource ${arn} does not exist`);
  }

  function resolveAssociable(value: unknown): IdentityRecord {
    const resource = resolveResource(value);
    if (resource.kind !== 'identity') throw badRequest(`Resource ${String(value)} cannot be associated with a tenant`);
    return resource.identity;
  }

  function tagsOf(resource: Resource): Tag[] {
    return resource.kind === 'tenant' ? resource.tenant.tags : resource.identity.tags;
  }

  function setTags(resource: Resource, tags: Tag[]): void {
    if (resource.kind === 'tenant') resource.tenant.tags = tags;
    else resource.identity.tags = tags;
  }

  return {
    CreateTenant({ body }) {
      const name = validateTenantName(body.TenantName);
      const tags = validateTags(body.Tags);
      const suppressionAttributes = validateSuppressionAttributes(body.SuppressionAttributes);
      if (state.tenants.has(name)) throw alreadyExists(`Tenant ${name} already exists`);
      if (state.tenants.size >= settings.maxTenants) {
        throw limitExceeded(`Maximum number of tenants (${settings.maxTenants}) reached for this account`);
      }
      const id = tenantId();
      const tenant: TenantRecord = {
        region: state.region,
        name,
        id,
        arn: state.tenantArn(name, id),
        createdAt: now(),
        sendingStatus: 'ENABLED',
        tags,
        ...(suppressionAttributes === undefined ? {} : { suppressionAttributes }),
      };
      state.tenants.set(name, tenant);
      return tenantView(tenant);
    },

    GetTenant({ body }) {
      return { Tenant: tenantView(requireTenant(body.TenantName)) };
    },

    DeleteTenant({ body }) {
      const tenant = requireTenant(body.TenantName);
      state.tenants.delete(tenant.name);
      // SES drops the tenant's associations but keeps the associated resources.
      state.removeAssociationsWhere((association) => association.tenantName === tenant.name);
      return {};
    },

    ListTenants({ body }) {
      const filter = readFilter(body.Filter, ['TENANT_NAME_CONTAINS', 'SENDING_STATUS']);
      const pageSize = validatePageSize(body.PageSize, TENANT_PAGE);
      const tenants = [...state.tenants.values()].filter(
        (tenant) =>
          (filter.TENANT_NAME_CONTAINS === undefined || tenant.name.includes(filter.TENANT_NAME_CONTAINS)) &&
          (filter.SENDING_STATUS === undefined || tenant.sendingStatus === filter.SENDING_STATUS),
      );
      const { page, nextToken } = paginate('ListTenants', tenants, (tenant) => tenant.name, pageSize, body.NextToken);
      return {
        Tenants: page.map((tenant) => ({
          TenantName: tenant.name,
          TenantId: tenant.id,
          TenantArn: tenant.arn,
          CreatedTimestamp: epochSeconds(tenant.createdAt),
          SendingStatus: tenant.sendingStatus,
        })),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    CreateTenantResourceAssociation({ body }) {
      const tenant = requireTenant(body.TenantName);
      const identity = resolveAssociable(body.ResourceArn);
      const key = state.associationKey(tenant.name, identity.arn);
      if (state.associations.has(key)) throw alreadyExists(`Resource ${identity.arn} is already associated with tenant ${tenant.name}`);
      state.associations.set(key, {
        region: state.region,
        tenantName: tenant.name,
        tenantId: tenant.id,
        resourceArn: identity.arn,
        resourceType: 'EMAIL_IDENTITY',
        associatedAt: now(),
      });
      return {};
    },

    DeleteTenantResourceAssociation({ body }) {
      const tenant = requireTenant(body.TenantName);
      const identity = resolveAssociable(body.ResourceArn);
      const key = state.associationKey(tenant.name, identity.arn);
      if (!state.associations.delete(key)) {
        throw notFound(`Resource ${identity.arn} is not associated with tenant ${tenant.name}`);
      }
      return {};
    },

    ListTenantResources({ body }) {
      const tenant = requireTenant(body.TenantName);
      const filter = readFilter(body.Filter, ['RESOURCE_TYPE']);
      if (filter.RESOURCE_TYPE !== undefined && !RESOURCE_TYPES.includes(filter.RESOURCE_TYPE)) {
        throw badRequest(`Invalid RESOURCE_TYPE filter "${filter.RESOURCE_TYPE}": expected one of ${RESOURCE_TYPES.join(', ')}`);
      }
      const pageSize = validatePageSize(body.PageSize, TENANT_PAGE);
      const associations = associationsWhere(
        (association) => association.tenantName === tenant.name && (filter.RESOURCE_TYPE === undefined || association.resourceType === filter.RESOURCE_TYPE),
      );
      const { page, nextToken } = paginate('ListTenantResources', associations, (a) => a.resourceArn, pageSize, body.NextToken);
      return {
        TenantResources: page.map((association) => ({ ResourceType: association.resourceType, ResourceArn: association.resourceArn })),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    ListResourceTenants({ body }) {
      const identity = resolveAssociable(body.ResourceArn);
      const pageSize = validatePageSize(body.PageSize, TENANT_PAGE);
      const associations = associationsWhere((association) => association.resourceArn === identity.arn);
      const { page, nextToken } = paginate('ListResourceTenants', associations, (a) => a.tenantName, pageSize, body.NextToken);
      return {
        ResourceTenants: page.map((association) => ({
          TenantName: association.tenantName,
          TenantId: association.tenantId,
          ResourceArn: association.resourceArn,
          AssociatedTimestamp: epochSeconds(association.associatedAt),
        })),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    CreateEmailIdentity({ body }) {
      const { name, type } = classifyEmailIdentity(body.EmailIdentity);
      const tags = validateTags(body.Tags);
      if (type === 'EMAIL_ADDRESS' && body.DkimSigningAttributes !== undefined && body.DkimSigningAttributes !== null) {
        throw badRequest('DkimSigningAttributes can only be given for a domain identity, not an email address');
      }
      const keyLength = easyDkimKeyLength(body.DkimSigningAttributes);
      if (body.ConfigurationSetName !== undefined && body.ConfigurationSetName !== null) {
        // The simulator has no configuration sets, so any name given names a missing one.
        throw notFound(`Configuration set ${String(body.ConfigurationSetName)} does not exist`);
      }
      if (state.getIdentity(name)) throw alreadyExists(`Email identity ${name} already exists`);
      if (state.identities.size >= settings.maxIdentities) {
        throw limitExceeded(`Maximum number of email identities (${settings.maxIdentities}) reached for this account`);
      }
      const createdAt = now();
      const isDomain = type === 'DOMAIN';
      const identity: IdentityRecord = {
        region: state.region,
        name,
        type,
        arn: state.identityArn(name),
        createdAt,
        tags,
        dkim: {
          // A domain starts Easy DKIM at once; an address is verified by a link in an email instead.
          status: isDomain ? 'PENDING' : 'NOT_STARTED',
          tokens: isDomain ? [dkimToken(), dkimToken(), dkimToken()] : [],
          signingHostedZone: settings.signingHostedZone.replaceAll('{region}', state.region),
          signingEnabled: isDomain,
          keyLength,
          keyGeneratedAt: createdAt,
        },
        verificationStatus: 'PENDING',
        behaviorOnMxFailure: 'USE_DEFAULT_VALUE',
      };
      state.identities.set(name.toLowerCase(), identity);
      return { IdentityType: type, VerifiedForSendingStatus: false, DkimAttributes: dkimView(identity) };
    },

    GetEmailIdentity({ labels }) {
      const identity = requireIdentity(labels.EmailIdentity);
      const info = {
        ...(identity.lastCheckedAt === undefined ? {} : { LastCheckedTimestamp: epochSeconds(identity.lastCheckedAt) }),
        ...(identity.lastSuccessAt === undefined ? {} : { LastSuccessTimestamp: epochSeconds(identity.lastSuccessAt) }),
        ...(identity.verificationError === undefined ? {} : { ErrorType: identity.verificationError }),
      };
      return {
        IdentityType: identity.type,
        FeedbackForwardingStatus: true,
        VerifiedForSendingStatus: verifiedForSending(identity),
        DkimAttributes: dkimView(identity),
        MailFromAttributes: mailFromView(identity),
        Policies: {},
        Tags: identity.tags,
        VerificationStatus: identity.verificationStatus,
        VerificationInfo: info,
      };
    },

    DeleteEmailIdentity({ labels }) {
      const identity = requireIdentity(labels.EmailIdentity);
      state.identities.delete(identity.name.toLowerCase());
      state.removeAssociationsWhere((association) => association.resourceArn === identity.arn);
      return {};
    },

    ListEmailIdentities({ body }) {
      const filter = readFilter(body.Filter, ['IDENTITY_NAME_CONTAINS', 'IDENTITY_TYPE', 'VERIFICATION_STATUS']);
      const pageSize = validatePageSize(body.PageSize, IDENTITY_PAGE);
      const contains = filter.IDENTITY_NAME_CONTAINS?.toLowerCase();
      const identities = [...state.identities.values()].filter(
        (identity) =>
          (contains === undefined || identity.name.toLowerCase().includes(contains)) &&
          (filter.IDENTITY_TYPE === undefined || identity.type === filter.IDENTITY_TYPE) &&
          (filter.VERIFICATION_STATUS === undefined || identity.verificationStatus === filter.VERIFICATION_STATUS),
      );
      const { page, nextToken } = paginate('ListEmailIdentities', identities, (i) => i.name.toLowerCase(), pageSize, body.NextToken);
      return {
        EmailIdentities: page.map((identity) => ({
          IdentityType: identity.type,
          IdentityName: identity.name,
          SendingEnabled: verifiedForSending(identity),
          VerificationStatus: identity.verificationStatus,
        })),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    TagResource({ body }) {
      const resource = resolveResource(body.ResourceArn);
      const added = validateTags(body.Tags);
      if (added.length === 0) throw badRequest('Tags must hold at least one tag');
      const merged = new Map(tagsOf(resource).map((tag) => [tag.Key, tag.Value]));
      for (const tag of added) merged.set(tag.Key, tag.Value);
      if (merged.size > MAX_TAGS_PER_RESOURCE) throw badRequest(`Too many tags: at most ${MAX_TAGS_PER_RESOURCE} per resource`);
      setTags(
        resource,
        [...merged].map(([Key, Value]) => ({ Key, Value })),
      );
      return {};
    },

    UntagResource({ query }) {
      const resource = resolveResource(query.get('ResourceArn') ?? undefined);
      const keys = query.getAll('TagKeys');
      if (keys.length === 0) throw badRequest('TagKeys is required');
      keys.forEach((key) => validateTagKey(key));
      setTags(
        resource,
        tagsOf(resource).filter((tag) => !keys.includes(tag.Key)),
      );
      return {};
    },

    ListTagsForResource({ query }) {
      return { Tags: tagsOf(resolveResource(query.get('ResourceArn') ?? undefined)) };
    },

    PutEmailIdentityMailFromAttributes({ labels, body }) {
      const identity = requireIdentity(labels.EmailIdentity);
      const domain = validateMailFromDomain(body.MailFromDomain, identity);
      const behavior =
        body.BehaviorOnMxFailure === undefined ? 'USE_DEFAULT_VALUE' : oneOf(body.BehaviorOnMxFailure, BEHAVIORS_ON_MX_FAILURE, 'BehaviorOnMxFailure');
      identity.behaviorOnMxFailure = behavior;
      if (domain === undefined) delete identity.mailFrom;
      // The same domain again keeps its verification; a new one starts over, as SES checks the new records.
      else if (identity.mailFrom?.domain.toLowerCase() !== domain.toLowerCase()) identity.mailFrom = { domain, status: 'PENDING', setAt: now() };
      return {};
    },
  };

  function associationsWhere(matches: (association: AssociationRecord) => boolean): AssociationRecord[] {
    return [...state.associations.values()].filter(matches);
  }
}

/** SES sends from an identity only once it is verified; a lapse (TEMPORARY_FAILURE) or FAILED stops it. */
function verifiedForSending(identity: IdentityRecord): boolean {
  return identity.verificationStatus === 'SUCCESS';
}

/** Without a custom MAIL FROM domain SES answers only the behaviour; with one, the domain and its status too. */
function mailFromView(identity: IdentityRecord): Record<string, unknown> {
  if (!identity.mailFrom) return { BehaviorOnMxFailure: identity.behaviorOnMxFailure };
  return { MailFromDomain: identity.mailFrom.domain, MailFromDomainStatus: identity.mailFrom.status, BehaviorOnMxFailure: identity.behaviorOnMxFailure };
}

function tenantView(tenant: TenantRecord): Record<string, unknown> {
  return {
    TenantName: tenant.name,
    TenantId: tenant.id,
    TenantArn: tenant.arn,
    CreatedTimestamp: epochSeconds(tenant.createdAt),
    Tags: tenant.tags,
    SendingStatus: tenant.sendingStatus,
    ...(tenant.suppressionAttributes === undefined ? {} : { SuppressionAttributes: tenant.suppressionAttributes }),
  };
}

function dkimView(identity: IdentityRecord): Record<string, unknown> {
  const { dkim } = identity;
  if (identity.type !== 'DOMAIN') {
    return { SigningEnabled: dkim.signingEnabled, Status: dkim.status, SigningAttributesOrigin: 'AWS_SES' };
  }
  return {
    SigningEnabled: dkim.signingEnabled,
    Status: dkim.status,
    Tokens: dkim.tokens,
    SigningHostedZone: dkim.signingHostedZone,
    SigningAttributesOrigin: 'AWS_SES',
    NextSigningKeyLength: dkim.keyLength,
    CurrentSigningKeyLength: dkim.keyLength,
    LastKeyGenerationTimestamp: epochSeconds(dkim.keyGeneratedAt),
  };
}

/** Easy DKIM may choose its key length; bring-your-own-DKIM (selector + private key) is not simulated. */
function easyDkimKeyLength(value: unknown): SigningKeyLength {
  if (value === undefined || value === null) return 'RSA_2048_BIT';
  const attributes = value as Record<string, unknown>;
  if (attributes.DomainSigningSelector !== undefined || attributes.DomainSigningPrivateKey !== undefined) {
    throw badRequest('Bring-your-own DKIM (DomainSigningSelector / DomainSigningPrivateKey) is not supported by the SES simulator');
  }
  const length = attributes.NextSigningKeyLength ?? 'RSA_2048_BIT';
  if (!KEY_LENGTHS.includes(length as SigningKeyLength)) {
    throw badRequest(`Invalid NextSigningKeyLength ${JSON.stringify(length)}: expected ${KEY_LENGTHS.join(' or ')}`);
  }
  return length as SigningKeyLength;
}

function readFilter(value: unknown, allowed: readonly string[]): Record<string, string | undefined> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('Filter must be a map of filter key to value');
  const filter: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (!allowed.includes(key)) throw badRequest(`Invalid filter key "${key}": expected one of ${allowed.join(', ')}`);
    if (typeof entry !== 'string') throw badRequest(`Filter value for ${key} must be a string`);
    filter[key] = entry;
  }
  return filter;
}

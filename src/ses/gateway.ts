/**
 * The SES operations the operator needs, in its own terms. The AWS implementation lives in
 * aws-gateway.ts; unit tests use small in-memory doubles of this interface.
 */
export interface SesTenant {
  name: string;
  id?: string;
  arn?: string;
  sendingStatus?: string;
  tags: Record<string, string>;
}

/** What SES does while it cannot confirm the MAIL FROM domain's MX record (the CRD's spelling of BehaviorOnMxFailure). */
export type MailFromBehavior = 'UseDefaultValue' | 'RejectMessage';

/** A custom MAIL FROM domain as the operator sets it. */
export interface MailFromSetting {
  domain: string;
  behaviorOnMxFailure: MailFromBehavior;
}

export interface SesIdentity {
  name: string;
  dkimStatus?: string;
  dkimTokens: string[];
  signingHostedZone?: string;
  verificationStatus?: string;
  verifiedForSending: boolean;
  tags: Record<string, string>;
  /** GetEmailIdentity's MailFromAttributes: domain and status only while a custom MAIL FROM domain is set. */
  mailFrom?: { domain?: string; status?: string; behaviorOnMxFailure?: MailFromBehavior };
  /** GetEmailIdentity's VerificationInfo: when SES last checked the records, and last found them (ms since the epoch). */
  lastCheckedAt?: number;
  lastSuccessAt?: number;
}

/** One page of a list call; `nextToken` is set while more pages follow. */
export interface SesPage<T> {
  items: T[];
  nextToken?: string;
}

/** What SES's list calls return: names only, no tags (those take a Get per resource). */
export interface SesTenantSummary {
  name: string;
  arn?: string;
}

export interface SesIdentitySummary {
  name: string;
  /** DOMAIN, EMAIL_ADDRESS or MANAGED_DOMAIN. */
  type?: string;
}

/**
 * Which SES calls go first when the shared rate limit makes calls wait:
 * - `urgent`: a person or a client is waiting on this call's outcome (a new setup on its way to
 *   Ready, a verify request, a deletion);
 * - `routine`: scheduled upkeep (re-checks and drift read-backs of verified setups, the orphan sweep).
 * Urgent calls are served first, but routine ones keep a share of the budget (see rate-limiter.ts).
 */
export type SesCallPriority = (typeof SES_CALL_PRIORITIES)[number];
export const SES_CALL_PRIORITIES = ['urgent', 'routine'] as const;

/** Per call: `signal` ends the call (its rate-limiter wait, its HTTP request, its retries) when aborted. */
export interface SesCallOptions {
  signal?: AbortSignal;
  /** How the call queues for the shared rate limit, every attempt of it; absent means routine. */
  priority?: SesCallPriority;
}

/** Every method takes SesCallOptions last, so a reconcile that is given up on can cut its SES calls short. */
export interface SesGateway {
  createTenant(region: string, name: string, tags: Record<string, string>, options?: SesCallOptions): Promise<SesTenant>;
  /** undefined when SES has no such tenant. */
  getTenant(region: string, name: string, options?: SesCallOptions): Promise<SesTenant | undefined>;
  deleteTenant(region: string, name: string, options?: SesCallOptions): Promise<void>;
  createEmailIdentity(region: string, domain: string, tags: Record<string, string>, options?: SesCallOptions): Promise<SesIdentity>;
  /** undefined when SES has no such identity. */
  getEmailIdentity(region: string, domain: string, options?: SesCallOptions): Promise<SesIdentity | undefined>;
  deleteEmailIdentity(region: string, domain: string, options?: SesCallOptions): Promise<void>;
  /** Idempotent: an existing association counts as success. */
  associate(region: string, tenantName: string, resourceArn: string, options?: SesCallOptions): Promise<void>;
  /** Idempotent: a missing association counts as success. */
  disassociate(region: string, tenantName: string, resourceArn: string, options?: SesCallOptions): Promise<void>;
  tagResource(region: string, resourceArn: string, tags: Record<string, string>, options?: SesCallOptions): Promise<void>;
  /** Sets the identity's custom MAIL FROM domain; undefined removes it (SES then uses its default MAIL FROM). */
  putMailFromAttributes(region: string, domain: string, mailFrom: MailFromSetting | undefined, options?: SesCallOptions): Promise<void>;
  /** The names of the tenants a resource is associated with (every page); empty when the resource does not exist. */
  listResourceTenants(region: string, resourceArn: string, options?: SesCallOptions): Promise<string[]>;
  /** One page of the region's tenants (ListTenants); pass the previous page's nextToken for the next. */
  listTenants(region: string, nextToken?: string, options?: SesCallOptions): Promise<SesPage<SesTenantSummary>>;
  /** One page of the region's identities (ListEmailIdentities). */
  listEmailIdentities(region: string, nextToken?: string, options?: SesCallOptions): Promise<SesPage<SesIdentitySummary>>;
  /**
   * An urgent call is coming in about delayMs (a scheduled re-check someone waits on): the rate
   * limit keeps a token for it instead of giving it to routine upkeep meanwhile.
   */
  expectUrgentCallIn?(delayMs: number): void;
}

/** What went wrong, in the terms the reconciler decides on. */
export type SesErrorKind =
  | 'AlreadyExists'
  | 'NotFound'
  | 'Throttled'
  | 'BadRequest'
  | 'LimitExceeded'
  | 'AccessDenied'
  /** Another request was changing the same resource: retried shortly. */
  | 'ConcurrentModification'
  | 'Other';

export class SesError extends Error {
  readonly kind: SesErrorKind;
  readonly operation: string;
  /** Set for throttling, so the work queue waits instead of spinning. */
  readonly retryAfterMs: number | undefined;

  constructor(kind: SesErrorKind, operation: string, message: string, retryAfterMs?: number) {
    super(`SES ${operation}: ${message}`);
    this.name = 'SesError';
    this.kind = kind;
    this.operation = operation;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The identity ARN is not returned by SES; it is the tenant ARN's account prefix + identity/<name>. */
export function identityArn(tenantArn: string, domain: string): string {
  const match = /^(arn:[^:]+:ses:[^:]+:\d+):/.exec(tenantArn);
  if (!match) throw new Error(`unexpected tenant ARN "${tenantArn}"`);
  return `${match[1]}:identity/${domain}`;
}

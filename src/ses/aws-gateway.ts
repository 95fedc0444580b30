import {
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  DeleteEmailIdentityCommand,
  DeleteTenantCommand,
  DeleteTenantResourceAssociationCommand,
  GetEmailIdentityCommand,
  GetTenantCommand,
  ListResourceTenantsCommand,
  ListEmailIdentitiesCommand,
  ListTenantsCommand,
  PutEmailIdentityMailFromAttributesCommand,
  SESv2Client,
  TagResourceCommand,
  type DkimAttributes,
  type MailFromAttributes,
  type Tag,
  type VerificationInfo,
} from '@aws-sdk/client-sesv2';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AwsCredentialIdentity, FinalizeHandler, FinalizeHandlerArguments, HandlerExecutionContext } from '@smithy/types';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-sesv2';
import {
  SesError,
  type MailFromBehavior,
  type MailFromSetting,
  type SesCallOptions,
  type SesCallPriority,
  type SesErrorKind,
  type SesGateway,
  type SesIdentity,
  type SesIdentitySummary,
  type SesPage,
  type SesTenant,
  type SesTenantSummary,
} from './gateway.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface SesCallObserver {
  /** One HTTP attempt to SES finished: outcome is "success" or the SES error name. */
  (operation: string, outcome: string, durationMs: number): void;
}

export interface AwsSesGatewayOptions {
  rateLimiter: RateLimiter;
  /** Endpoint override (the SES simulator); unset means the real regional SES endpoint. */
  endpoint?: string;
  /** SDK attempts per call, each of which waits for the rate limiter (adaptive retry mode). */
  maxAttempts?: number;
  credentials?: AwsCredentialIdentity;
  onCall?: SesCallObserver;
  /** How long to wait before retrying a call SES throttled after the SDK's own retries. */
  throttleBackoffMs?: number;
  /** How long to wait before retrying a call refused with ConcurrentModificationException after the SDK's own retries. */
  concurrentModificationBackoffMs?: number;
}

type Call<T> = (client: SESv2Client, options: { abortSignal?: AbortSignal }) => Promise<T>;

/** SES through the real AWS SDK: one client per region, every HTTP attempt paced by one shared limiter. */
export class AwsSesGateway implements SesGateway {
  readonly #clients = new Map<string, SESv2Client>();
  readonly #options: AwsSesGatewayOptions;
  /**
   * The priority of the call under way, for the rate-limit middleware: it runs inside the SDK's
   * retry loop and sees only the Smithy context, so the call's own async context carries it there.
   */
  readonly #priority = new AsyncLocalStorage<SesCallPriority>();

  constructor(options: AwsSesGatewayOptions) {
    this.#options = options;
  }

  async createTenant(region: string, name: string, tags: Record<string, string>, options?: SesCallOptions): Promise<SesTenant> {
    const out = await this.#send(region, 'CreateTenant', options, (client, http) =>
      client.send(new CreateTenantCommand({ TenantName: name, Tags: toTags(tags) }), http),
    );
    return { name, id: out.TenantId, arn: out.TenantArn, sendingStatus: out.SendingStatus, tags: fromTags(out.Tags) ?? tags };
  }

  async getTenant(region: string, name: string, options?: SesCallOptions): Promise<SesTenant | undefined> {
    const out = await this.#sendOrUndefined(region, 'GetTenant', options, (client, http) => client.send(new GetTenantCommand({ TenantName: name }), http));
    const tenant = out?.Tenant;
    if (!tenant) return undefined;
    return { name, id: tenant.TenantId, arn: tenant.TenantArn, sendingStatus: tenant.SendingStatus, tags: fromTags(tenant.Tags) ?? {} };
  }

  async deleteTenant(region: string, name: string, options?: SesCallOptions): Promise<void> {
    await this.#sendOrUndefined(region, 'DeleteTenant', options, (client, http) => client.send(new DeleteTenantCommand({ TenantName: name }), http));
  }

  async createEmailIdentity(region: string, domain: string, tags: Record<string, string>, options?: SesCallOptions): Promise<SesIdentity> {
    const out = await this.#send(region, 'CreateEmailIdentity', options, (client, http) =>
      client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain, Tags: toTags(tags) }), http),
    );
    return {
      name: domain,
      ...dkim(out.DkimAttributes),
      verificationStatus: out.DkimAttributes?.Status,
      verifiedForSending: out.VerifiedForSendingStatus ?? false,
      tags,
    };
  }

  async getEmailIdentity(region: string, domain: string, options?: SesCallOptions): Promise<SesIdentity | undefined> {
    const out = await this.#sendOrUndefined(region, 'GetEmailIdentity', options, (client, http) =>
      client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }), http),
    );
    if (!out) return undefined;
    return {
      name: domain,
      ...dkim(out.DkimAttributes),
      verificationStatus: out.VerificationStatus,
      verifiedForSending: out.VerifiedForSendingStatus ?? false,
      tags: fromTags(out.Tags) ?? {},
      ...mailFrom(out.MailFromAttributes),
      ...verificationTimes(out.VerificationInfo),
    };
  }

  async deleteEmailIdentity(region: string, domain: string, options?: SesCallOptions): Promise<void> {
    await this.#sendOrUndefined(region, 'DeleteEmailIdentity', options, (client, http) =>
      client.send(new DeleteEmailIdentityCommand({ EmailIdentity: domain }), http),
    );
  }

  async associate(region: string, tenantName: string, resourceArn: string, options?: SesCallOptions): Promise<void> {
    try {
      await this.#send(region, 'CreateTenantResourceAssociation', options, (client, http) =>
        client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenantName, ResourceArn: resourceArn }), http),
      );
    } catch (error) {
      if (!(error instanceof SesError && error.kind === 'AlreadyExists')) throw error;
    }
  }

  async disassociate(region: string, tenantName: string, resourceArn: string, options?: SesCallOptions): Promise<void> {
    await this.#sendOrUndefined(region, 'DeleteTenantResourceAssociation', options, (client, http) =>
      client.send(new DeleteTenantResourceAssociationCommand({ TenantName: tenantName, ResourceArn: resourceArn }), http),
    );
  }

  async tagResource(region: string, resourceArn: string, tags: Record<string, string>, options?: SesCallOptions): Promise<void> {
    await this.#send(region, 'TagResource', options, (client, http) =>
      client.send(new TagResourceCommand({ ResourceArn: resourceArn, Tags: toTags(tags) }), http),
    );
  }

  async putMailFromAttributes(region: string, domain: string, setting: MailFromSetting | undefined, options?: SesCallOptions): Promise<void> {
    // No MailFromDomain removes the custom domain; the behaviour then goes back to SES's default too.
    const input = setting ? { MailFromDomain: setting.domain, BehaviorOnMxFailure: TO_SES_BEHAVIOR[setting.behaviorOnMxFailure] } : {};
    await this.#send(region, 'PutEmailIdentityMailFromAttributes', options, (client, http) =>
      client.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: domain, ...input }), http),
    );
  }

  async listResourceTenants(region: string, resourceArn: string, options?: SesCallOptions): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.#sendOrUndefined(region, 'ListResourceTenants', options, (client, http) =>
        client.send(new ListResourceTenantsCommand({ ResourceArn: resourceArn, PageSize: 100, NextToken: nextToken }), http),
      );
      for (const tenant of out?.ResourceTenants ?? []) if (tenant.TenantName) names.push(tenant.TenantName);
      nextToken = out?.NextToken;
    } while (nextToken);
    return names;
  }

  async listTenants(region: string, nextToken?: string, options?: SesCallOptions): Promise<SesPage<SesTenantSummary>> {
    const out = await this.#send(region, 'ListTenants', options, (client, http) =>
      client.send(new ListTenantsCommand({ NextToken: nextToken, PageSize: TENANT_PAGE_SIZE }), http),
    );
    return {
      items: (out.Tenants ?? []).flatMap((tenant) => (tenant.TenantName ? [{ name: tenant.TenantName, arn: tenant.TenantArn }] : [])),
      ...(out.NextToken ? { nextToken: out.NextToken } : {}),
    };
  }

  async listEmailIdentities(region: string, nextToken?: string, options?: SesCallOptions): Promise<SesPage<SesIdentitySummary>> {
    const out = await this.#send(region, 'ListEmailIdentities', options, (client, http) =>
      client.send(new ListEmailIdentitiesCommand({ NextToken: nextToken, PageSize: IDENTITY_PAGE_SIZE }), http),
    );
    return {
      items: (out.EmailIdentities ?? []).flatMap((identity) => (identity.IdentityName ? [{ name: identity.IdentityName, type: identity.IdentityType }] : [])),
      ...(out.NextToken ? { nextToken: out.NextToken } : {}),
    };
  }

  expectUrgentCallIn(delayMs: number): void {
    this.#options.rateLimiter.expectUrgentIn(delayMs);
  }

  /** Closes the HTTP connections of every regional client. */
  destroy(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
  }

  /**
   * One call. The signal reaches the SDK as its `abortSignal`: it ends the HTTP request, the SDK's
   * retry waits and (through the middleware below) the rate-limiter wait. An aborted call rejects
   * with the abort, untranslated: it says nothing about SES. Every attempt waits for the limiter
   * with the call's priority.
   */
  async #send<T>(region: string, operation: string, options: SesCallOptions | undefined, call: Call<T>): Promise<T> {
    const signal = options?.signal;
    try {
      signal?.throwIfAborted();
      const client = this.#client(region);
      return await this.#priority.run(options?.priority ?? 'routine', () => call(client, { abortSignal: signal }));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#translate(operation, error);
    }
  }

  async #sendOrUndefined<T>(region: string, operation: string, options: SesCallOptions | undefined, call: Call<T>): Promise<T | undefined> {
    try {
      return await this.#send(region, operation, options, call);
    } catch (error) {
      if (error instanceof SesError && error.kind === 'NotFound') return undefined;
      throw error;
    }
  }

  #client(region: string): SESv2Client {
    let client = this.#clients.get(region);
    if (client) return client;
    client = new SESv2Client({
      region,
      endpoint: this.#options.endpoint,
      retryMode: 'adaptive',
      maxAttempts: this.#options.maxAttempts ?? 3,
      credentials: this.#options.credentials,
    });
    const { rateLimiter, onCall } = this.#options;
    const priority = this.#priority;
    // Inside the retry loop: every attempt, retries included, waits for the shared limiter with its call's priority.
    client.middlewareStack.addRelativeTo(
      (next: FinalizeHandler<ServiceInputTypes, ServiceOutputTypes>, context: HandlerExecutionContext) =>
        async (args: FinalizeHandlerArguments<ServiceInputTypes>) => {
          // The SDK hands the call's abortSignal to middleware in the Smithy context, as its own retry middleware reads it.
          await rateLimiter.acquire(context.__smithy_context?.abortSignal as AbortSignal | undefined, priority.getStore());
          const started = performance.now();
          const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
          try {
            const result = await next(args);
            onCall?.(operation, 'success', performance.now() - started);
            return result;
          } catch (error) {
            onCall?.(operation, (error as Error).name || 'Error', performance.now() - started);
            throw error;
          }
        },
      { name: 'sesOperatorRateLimit', relation: 'after', toMiddleware: 'retryMiddleware', override: true },
    );
    this.#clients.set(region, client);
    return client;
  }

  #translate(operation: string, error: unknown): SesError {
    const name = (error as { name?: string }).name ?? 'Error';
    const message = (error as { message?: string }).message ?? String(error);
    const kind = ERROR_KINDS[name] ?? 'Other';
    const retryAfterMs = RETRY_AFTER_MS[kind]?.(this.#options);
    return new SesError(kind, operation, `${name}: ${message}`, retryAfterMs);
  }
}

// The largest pages the SES API reference allows (ListTenants 1-100, ListEmailIdentities 0-1000): fewest calls per sweep.
export const TENANT_PAGE_SIZE = 100;
export const IDENTITY_PAGE_SIZE = 1000;

const ERROR_KINDS: Record<string, SesErrorKind> = {
  AlreadyExistsException: 'AlreadyExists',
  NotFoundException: 'NotFound',
  TooManyRequestsException: 'Throttled',
  ThrottlingException: 'Throttled',
  BadRequestException: 'BadRequest',
  LimitExceededException: 'LimitExceeded',
  AccessDeniedException: 'AccessDenied',
  ConcurrentModificationException: 'ConcurrentModification',
};

/**
 * The wait the work queue honours before retrying a failed reconcile, by kind. AccessDenied has
 * none here: the SesSetup reconciler turns it into Stalled and retries on its own slow schedule.
 */
const RETRY_AFTER_MS: Partial<Record<SesErrorKind, (options: AwsSesGatewayOptions) => number>> = {
  Throttled: (options) => options.throttleBackoffMs ?? 5_000,
  LimitExceeded: () => 60_000,
  ConcurrentModification: (options) => options.concurrentModificationBackoffMs ?? 2_000,
};

function dkim(attributes: DkimAttributes | undefined): Pick<SesIdentity, 'dkimStatus' | 'dkimTokens' | 'signingHostedZone'> {
  return {
    dkimStatus: attributes?.Status,
    dkimTokens: attributes?.Tokens ?? [],
    signingHostedZone: attributes?.SigningHostedZone,
  };
}

function verificationTimes(info: VerificationInfo | undefined): Pick<SesIdentity, 'lastCheckedAt' | 'lastSuccessAt'> {
  return {
    ...(info?.LastCheckedTimestamp ? { lastCheckedAt: info.LastCheckedTimestamp.getTime() } : {}),
    ...(info?.LastSuccessTimestamp ? { lastSuccessAt: info.LastSuccessTimestamp.getTime() } : {}),
  };
}

const TO_SES_BEHAVIOR = { UseDefaultValue: 'USE_DEFAULT_VALUE', RejectMessage: 'REJECT_MESSAGE' } as const;
const FROM_SES_BEHAVIOR: Record<string, MailFromBehavior> = { USE_DEFAULT_VALUE: 'UseDefaultValue', REJECT_MESSAGE: 'RejectMessage' };

function mailFrom(attributes: MailFromAttributes | undefined): Pick<SesIdentity, 'mailFrom'> {
  if (!attributes) return {};
  const behavior = attributes.BehaviorOnMxFailure && FROM_SES_BEHAVIOR[attributes.BehaviorOnMxFailure];
  return {
    mailFrom: {
      ...(attributes.MailFromDomain ? { domain: attributes.MailFromDomain } : {}),
      ...(attributes.MailFromDomainStatus ? { status: attributes.MailFromDomainStatus } : {}),
      ...(behavior ? { behaviorOnMxFailure: behavior } : {}),
    },
  };
}

function toTags(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function fromTags(tags: Tag[] | undefined): Record<string, string> | undefined {
  if (!tags) return undefined;
  return Object.fromEntries(tags.map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

import {
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  DeleteEmailIdentityCommand,
  DeleteTenantCommand,
  DeleteTenantResourceAssociationCommand,
  GetEmailIdentityCommand,
  GetTenantCommand,
  SESv2Client,
  TagResourceCommand,
  type DkimAttributes,
  type Tag,
} from '@aws-sdk/client-sesv2';
import type { AwsCredentialIdentity, FinalizeHandler, FinalizeHandlerArguments, HandlerExecutionContext } from '@smithy/types';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-sesv2';
import { SesError, type SesErrorKind, type SesGateway, type SesIdentity, type SesTenant } from './gateway.ts';
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
}

/** SES through the real AWS SDK: one client per region, every HTTP attempt paced by one shared limiter. */
export class AwsSesGateway implements SesGateway {
  readonly #clients = new Map<string, SESv2Client>();
  readonly #options: AwsSesGatewayOptions;

  constructor(options: AwsSesGatewayOptions) {
    this.#options = options;
  }

  async createTenant(region: string, name: string, tags: Record<string, string>): Promise<SesTenant> {
    const out = await this.#send(region, 'CreateTenant', (client) => client.send(new CreateTenantCommand({ TenantName: name, Tags: toTags(tags) })));
    return { name, id: out.TenantId, arn: out.TenantArn, sendingStatus: out.SendingStatus, tags: fromTags(out.Tags) ?? tags };
  }

  async getTenant(region: string, name: string): Promise<SesTenant | undefined> {
    const out = await this.#sendOrUndefined(region, 'GetTenant', (client) => client.send(new GetTenantCommand({ TenantName: name })));
    const tenant = out?.Tenant;
    if (!tenant) return undefined;
    return { name, id: tenant.TenantId, arn: tenant.TenantArn, sendingStatus: tenant.SendingStatus, tags: fromTags(tenant.Tags) ?? {} };
  }

  async deleteTenant(region: string, name: string): Promise<void> {
    await this.#sendOrUndefined(region, 'DeleteTenant', (client) => client.send(new DeleteTenantCommand({ TenantName: name })));
  }

  async createEmailIdentity(region: string, domain: string, tags: Record<string, string>): Promise<SesIdentity> {
    const out = await this.#send(region, 'CreateEmailIdentity', (client) =>
      client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain, Tags: toTags(tags) })),
    );
    return {
      name: domain,
      ...dkim(out.DkimAttributes),
      verificationStatus: out.DkimAttributes?.Status,
      verifiedForSending: out.VerifiedForSendingStatus ?? false,
      tags,
    };
  }

  async getEmailIdentity(region: string, domain: string): Promise<SesIdentity | undefined> {
    const out = await this.#sendOrUndefined(region, 'GetEmailIdentity', (client) => client.send(new GetEmailIdentityCommand({ EmailIdentity: domain })));
    if (!out) return undefined;
    return {
      name: domain,
      ...dkim(out.DkimAttributes),
      verificationStatus: out.VerificationStatus,
      verifiedForSending: out.VerifiedForSendingStatus ?? false,
      tags: fromTags(out.Tags) ?? {},
    };
  }

  async deleteEmailIdentity(region: string, domain: string): Promise<void> {
    await this.#sendOrUndefined(region, 'DeleteEmailIdentity', (client) => client.send(new DeleteEmailIdentityCommand({ EmailIdentity: domain })));
  }

  async associate(region: string, tenantName: string, resourceArn: string): Promise<void> {
    try {
      await this.#send(region, 'CreateTenantResourceAssociation', (client) =>
        client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenantName, ResourceArn: resourceArn })),
      );
    } catch (error) {
      if (!(error instanceof SesError && error.kind === 'AlreadyExists')) throw error;
    }
  }

  async disassociate(region: string, tenantName: string, resourceArn: string): Promise<void> {
    await this.#sendOrUndefined(region, 'DeleteTenantResourceAssociation', (client) =>
      client.send(new DeleteTenantResourceAssociationCommand({ TenantName: tenantName, ResourceArn: resourceArn })),
    );
  }

  async tagResource(region: string, resourceArn: string, tags: Record<string, string>): Promise<void> {
    await this.#send(region, 'TagResource', (client) => client.send(new TagResourceCommand({ ResourceArn: resourceArn, Tags: toTags(tags) })));
  }

  /** Closes the HTTP connections of every regional client. */
  destroy(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
  }

  async #send<T>(region: string, operation: string, call: (client: SESv2Client) => Promise<T>): Promise<T> {
    try {
      return await call(this.#client(region));
    } catch (error) {
      throw this.#translate(operation, error);
    }
  }

  async #sendOrUndefined<T>(region: string, operation: string, call: (client: SESv2Client) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.#send(region, operation, call);
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
    // Inside the retry loop: every attempt, retries included, waits for the shared limiter.
    client.middlewareStack.addRelativeTo(
      (next: FinalizeHandler<ServiceInputTypes, ServiceOutputTypes>, context: HandlerExecutionContext) =>
        async (args: FinalizeHandlerArguments<ServiceInputTypes>) => {
          await rateLimiter.acquire();
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
    const retryAfterMs = kind === 'Throttled' ? (this.#options.throttleBackoffMs ?? 5_000) : kind === 'LimitExceeded' ? 60_000 : undefined;
    return new SesError(kind, operation, `${name}: ${message}`, retryAfterMs);
  }
}

const ERROR_KINDS: Record<string, SesErrorKind> = {
  AlreadyExistsException: 'AlreadyExists',
  NotFoundException: 'NotFound',
  TooManyRequestsException: 'Throttled',
  ThrottlingException: 'Throttled',
  BadRequestException: 'BadRequest',
  LimitExceededException: 'LimitExceeded',
  AccessDeniedException: 'AccessDenied',
};

function dkim(attributes: DkimAttributes | undefined): Pick<SesIdentity, 'dkimStatus' | 'dkimTokens' | 'signingHostedZone'> {
  return {
    dkimStatus: attributes?.Status,
    dkimTokens: attributes?.Tokens ?? [],
    signingHostedZone: attributes?.SigningHostedZone,
  };
}

function toTags(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function fromTags(tags: Tag[] | undefined): Record<string, string> | undefined {
  if (!tags) return undefined;
  return Object.fromEntries(tags.map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

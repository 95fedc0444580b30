import {
  SesError,
  type MailFromSetting,
  type SesCallOptions,
  type SesCallPriority,
  type SesGateway,
  type SesIdentity,
  type SesIdentitySummary,
  type SesPage,
  type SesTenant,
  type SesTenantSummary,
} from '../../../src/ses/gateway.ts';

/** A small in-memory double of the operator's SesGateway, with a call log, for unit tests. */
export class MemorySes implements SesGateway {
  readonly tenants = new Map<string, SesTenant>();
  readonly identities = new Map<string, SesIdentity>();
  readonly associations = new Set<string>();
  readonly calls: string[] = [];
  /** Items per page of the list calls: small, so callers must follow nextToken. */
  pageSize = 2;
  /** The region of each call in `calls`, in the same order. */
  readonly callRegions: string[] = [];
  /** Operation name -> error to throw once. */
  readonly failNext = new Map<string, SesError>();
  /** Operations IAM refuses (AccessDeniedException), every call, until removed. */
  readonly denied = new Set<string>();
  /** Operations whose calls hang until their signal aborts (a call SES never answers). */
  readonly hang = new Set<string>();
  /** The signal each call was given, in the order of `calls`. */
  readonly callSignals: (AbortSignal | undefined)[] = [];
  /** The priority each call was given (undefined: none, which the gateway treats as routine), in the order of `calls`. */
  readonly callPriorities: (SesCallPriority | undefined)[] = [];
  /** The delays of the urgent calls announced by expectUrgentCallIn, in order. */
  readonly expectedUrgentCalls: number[] = [];

  expectUrgentCallIn(delayMs: number): void {
    this.expectedUrgentCalls.push(delayMs);
  }

  async #call(operation: string, region: string, options?: SesCallOptions): Promise<void> {
    this.calls.push(operation);
    this.callRegions.push(region);
    this.callSignals.push(options?.signal);
    this.callPriorities.push(options?.priority);
    options?.signal?.throwIfAborted();
    if (this.hang.has(operation)) {
      await new Promise((_resolve, reject) => {
        if (!options?.signal) return;
        options.signal.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
      });
    }
    if (this.denied.has(operation)) {
      throw new SesError(
        'AccessDenied',
        operation,
        `AccessDeniedException: User: arn:aws:iam::123456789012:user/op is not authorized to perform: ses:${operation}`,
      );
    }
    const failure = this.failNext.get(operation);
    if (failure) {
      this.failNext.delete(operation);
      throw failure;
    }
  }

  /** Deletes a tenant as someone outside the operator would (its associations go with it). */
  deleteTenantOutOfBand(name: string): void {
    this.tenants.delete(name);
    for (const key of this.associations) if (key.startsWith(`${name}|`)) this.associations.delete(key);
  }

  /** Deletes an identity as someone outside the operator would (its associations go with it). */
  deleteIdentityOutOfBand(domain: string): void {
    this.identities.delete(domain);
    for (const key of this.associations) if (key.endsWith(`:identity/${domain}`)) this.associations.delete(key);
  }

  async createTenant(region: string, name: string, tags: Record<string, string>, options?: SesCallOptions): Promise<SesTenant> {
    await this.#call('CreateTenant', region, options);
    if (this.tenants.has(name)) throw new SesError('AlreadyExists', 'CreateTenant', 'exists');
    const tenant = { name, id: `tn-${name}`, arn: `arn:aws:ses:${region}:123456789012:tenant/${name}/tn-${name}`, sendingStatus: 'ENABLED', tags: { ...tags } };
    this.tenants.set(name, tenant);
    return structuredClone(tenant);
  }
  async getTenant(region: string, name: string, options?: SesCallOptions): Promise<SesTenant | undefined> {
    await this.#call('GetTenant', region, options);
    return structuredClone(this.tenants.get(name));
  }
  async deleteTenant(region: string, name: string, options?: SesCallOptions): Promise<void> {
    await this.#call('DeleteTenant', region, options);
    this.deleteTenantOutOfBand(name);
  }
  async createEmailIdentity(region: string, domain: string, tags: Record<string, string>, options?: SesCallOptions): Promise<SesIdentity> {
    await this.#call('CreateEmailIdentity', region, options);
    if (this.identities.has(domain)) throw new SesError('AlreadyExists', 'CreateEmailIdentity', 'exists');
    const identity: SesIdentity = {
      name: domain,
      dkimStatus: 'PENDING',
      dkimTokens: ['t1', 't2', 't3'].map((t) => `${t}${domain.length}`),
      signingHostedZone: 'dkim.amazonses.com',
      verificationStatus: 'PENDING',
      verifiedForSending: false,
      tags: { ...tags },
    };
    this.identities.set(domain, identity);
    return structuredClone(identity);
  }
  async getEmailIdentity(region: string, domain: string, options?: SesCallOptions): Promise<SesIdentity | undefined> {
    await this.#call('GetEmailIdentity', region, options);
    const identity = structuredClone(this.identities.get(domain));
    // As SES answers: the behaviour always, the domain and its status only while one is set.
    if (identity) identity.mailFrom = { behaviorOnMxFailure: 'UseDefaultValue', ...identity.mailFrom };
    return identity;
  }
  async deleteEmailIdentity(region: string, domain: string, options?: SesCallOptions): Promise<void> {
    await this.#call('DeleteEmailIdentity', region, options);
    this.deleteIdentityOutOfBand(domain);
  }
  async associate(region: string, tenantName: string, resourceArn: string, options?: SesCallOptions): Promise<void> {
    await this.#call('CreateTenantResourceAssociation', region, options);
    this.associations.add(`${tenantName}|${resourceArn}`);
  }
  async disassociate(region: string, tenantName: string, resourceArn: string, options?: SesCallOptions): Promise<void> {
    await this.#call('DeleteTenantResourceAssociation', region, options);
    this.associations.delete(`${tenantName}|${resourceArn}`);
  }
  async tagResource(region: string, resourceArn: string, tags: Record<string, string>, options?: SesCallOptions): Promise<void> {
    await this.#call('TagResource', region, options);
    for (const tenant of this.tenants.values()) if (tenant.arn === resourceArn) Object.assign(tenant.tags, tags);
    for (const identity of this.identities.values()) if (resourceArn.endsWith(`:identity/${identity.name}`)) Object.assign(identity.tags, tags);
  }
  /** As SES: a new domain starts PENDING, the same domain keeps its status, none removes it. */
  async putMailFromAttributes(region: string, domain: string, setting: MailFromSetting | undefined, options?: SesCallOptions): Promise<void> {
    await this.#call('PutEmailIdentityMailFromAttributes', region, options);
    const identity = this.identities.get(domain);
    if (!identity) throw new SesError('NotFound', 'PutEmailIdentityMailFromAttributes', `identity ${domain} does not exist`);
    if (!setting) {
      delete identity.mailFrom;
      return;
    }
    const status = identity.mailFrom?.domain === setting.domain ? identity.mailFrom.status : 'PENDING';
    identity.mailFrom = { domain: setting.domain, status, behaviorOnMxFailure: setting.behaviorOnMxFailure };
  }

  async listResourceTenants(region: string, resourceArn: string, options?: SesCallOptions): Promise<string[]> {
    await this.#call('ListResourceTenants', region, options);
    return [...this.associations].filter((key) => key.endsWith(`|${resourceArn}`)).map((key) => key.split('|')[0]!);
  }
  async listTenants(region: string, nextToken?: string, options?: SesCallOptions): Promise<SesPage<SesTenantSummary>> {
    await this.#call('ListTenants', region, options);
    return this.#page(
      [...this.tenants.values()].map((tenant) => ({ name: tenant.name, arn: tenant.arn })),
      nextToken,
    );
  }
  async listEmailIdentities(region: string, nextToken?: string, options?: SesCallOptions): Promise<SesPage<SesIdentitySummary>> {
    await this.#call('ListEmailIdentities', region, options);
    return this.#page(
      [...this.identities.values()].map((identity) => ({ name: identity.name, type: 'DOMAIN' })),
      nextToken,
    );
  }
  #page<T extends { name: string }>(items: T[], nextToken: string | undefined): SesPage<T> {
    const sorted = items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const start = nextToken === undefined ? 0 : sorted.findIndex((item) => item.name > nextToken);
    const page = start < 0 ? [] : sorted.slice(start, start + this.pageSize);
    const more = start >= 0 && start + this.pageSize < sorted.length;
    return { items: page, ...(more ? { nextToken: page.at(-1)!.name } : {}) };
  }
}

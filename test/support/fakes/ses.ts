import {
  SesError,
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

  #call(operation: string, region: string): void {
    this.calls.push(operation);
    this.callRegions.push(region);
    const failure = this.failNext.get(operation);
    if (failure) {
      this.failNext.delete(operation);
      throw failure;
    }
  }

  async createTenant(region: string, name: string, tags: Record<string, string>): Promise<SesTenant> {
    this.#call('CreateTenant', region);
    if (this.tenants.has(name)) throw new SesError('AlreadyExists', 'CreateTenant', 'exists');
    const tenant = { name, id: `tn-${name}`, arn: `arn:aws:ses:${region}:123456789012:tenant/${name}/tn-${name}`, sendingStatus: 'ENABLED', tags: { ...tags } };
    this.tenants.set(name, tenant);
    return structuredClone(tenant);
  }
  async getTenant(region: string, name: string): Promise<SesTenant | undefined> {
    this.#call('GetTenant', region);
    return structuredClone(this.tenants.get(name));
  }
  async deleteTenant(region: string, name: string): Promise<void> {
    this.#call('DeleteTenant', region);
    this.tenants.delete(name);
    for (const key of this.associations) if (key.startsWith(`${name}|`)) this.associations.delete(key);
  }
  async createEmailIdentity(region: string, domain: string, tags: Record<string, string>): Promise<SesIdentity> {
    this.#call('CreateEmailIdentity', region);
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
  async getEmailIdentity(region: string, domain: string): Promise<SesIdentity | undefined> {
    this.#call('GetEmailIdentity', region);
    return structuredClone(this.identities.get(domain));
  }
  async deleteEmailIdentity(region: string, domain: string): Promise<void> {
    this.#call('DeleteEmailIdentity', region);
    this.identities.delete(domain);
  }
  async associate(region: string, tenantName: string, resourceArn: string): Promise<void> {
    this.#call('CreateTenantResourceAssociation', region);
    this.associations.add(`${tenantName}|${resourceArn}`);
  }
  async disassociate(region: string, tenantName: string, resourceArn: string): Promise<void> {
    this.#call('DeleteTenantResourceAssociation', region);
    this.associations.delete(`${tenantName}|${resourceArn}`);
  }
  async tagResource(region: string, resourceArn: string, tags: Record<string, string>): Promise<void> {
    this.#call('TagResource', region);
    for (const tenant of this.tenants.values()) if (tenant.arn === resourceArn) Object.assign(tenant.tags, tags);
    for (const identity of this.identities.values()) if (resourceArn.endsWith(`:identity/${identity.name}`)) Object.assign(identity.tags, tags);
  }
  async listTenants(region: string, nextToken?: string): Promise<SesPage<SesTenantSummary>> {
    this.#call('ListTenants', region);
    return this.#page(
      [...this.tenants.values()].map((tenant) => ({ name: tenant.name, arn: tenant.arn })),
      nextToken,
    );
  }
  async listEmailIdentities(region: string, nextToken?: string): Promise<SesPage<SesIdentitySummary>> {
    this.#call('ListEmailIdentities', region);
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

import type { IdentityType, Tag } from './validation.ts';

/** Every ARN the simulator hands out belongs to this made-up account, like AWS documentation examples. */
export const ACCOUNT_ID = '123456789012';

export type DkimStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED';
export type SigningKeyLength = 'RSA_1024_BIT' | 'RSA_2048_BIT';
export type ResourceType = 'EMAIL_IDENTITY' | 'CONFIGURATION_SET' | 'EMAIL_TEMPLATE';

export interface TenantRecord {
  name: string;
  id: string;
  arn: string;
  /** ms since the epoch; responses convert to epoch seconds. */
  createdAt: number;
  sendingStatus: 'ENABLED' | 'REINSTATED' | 'DISABLED';
  tags: Tag[];
  suppressionAttributes?: unknown;
}

export interface DkimRecord {
  status: DkimStatus;
  /** Easy DKIM: three tokens, each published as `<token>._domainkey.<domain>` CNAME `<token>.<signingHostedZone>`. */
  tokens: string[];
  signingHostedZone: string;
  signingEnabled: boolean;
  keyLength: SigningKeyLength;
  keyGeneratedAt: number;
}

export interface IdentityRecord {
  name: string;
  type: IdentityType;
  arn: string;
  createdAt: number;
  tags: Tag[];
  dkim: DkimRecord;
  verificationStatus: DkimStatus;
  lastCheckedAt?: number;
  lastSuccessAt?: number;
  /** SES's VerificationError of the last failed check (HOST_NOT_FOUND, INVALID_VALUE, ...). */
  verificationError?: string;
}

export interface AssociationRecord {
  tenantName: string;
  tenantId: string;
  resourceArn: string;
  resourceType: ResourceType;
  associatedAt: number;
}

/** The simulated account in one region: tenants, email identities and the associations between them. */
export class SimulatorState {
  readonly region: string;
  readonly tenants = new Map<string, TenantRecord>();
  /** Keyed by the lower-cased name: SES identities are case-insensitive. */
  readonly identities = new Map<string, IdentityRecord>();
  readonly associations = new Map<string, AssociationRecord>();

  constructor(region: string) {
    this.region = region;
  }

  identityArn(name: string): string {
    return `arn:aws:ses:${this.region}:${ACCOUNT_ID}:identity/${name}`;
  }

  tenantArn(name: string, id: string): string {
    return `arn:aws:ses:${this.region}:${ACCOUNT_ID}:tenant/${name}/${id}`;
  }

  getIdentity(name: string): IdentityRecord | undefined {
    return this.identities.get(name.toLowerCase());
  }

  associationKey(tenantName: string, resourceArn: string): string {
    return `${tenantName}\n${resourceArn}`;
  }

  removeAssociationsWhere(matches: (association: AssociationRecord) => boolean): void {
    for (const [key, association] of this.associations) if (matches(association)) this.associations.delete(key);
  }

  clear(): void {
    this.tenants.clear();
    this.identities.clear();
    this.associations.clear();
  }

  /** A JSON view for the control interface; times stay in ms since the epoch. */
  snapshot(): StateSnapshot {
    return {
      region: this.region,
      accountId: ACCOUNT_ID,
      tenants: [...this.tenants.values()].map((tenant) => ({ ...tenant, tags: [...tenant.tags] })),
      identities: [...this.identities.values()].map((identity) => ({
        ...identity,
        tags: [...identity.tags],
        dkim: { ...identity.dkim, tokens: [...identity.dkim.tokens] },
      })),
      associations: [...this.associations.values()].map((association) => ({ ...association })),
    };
  }
}

export interface StateSnapshot {
  region: string;
  accountId: string;
  tenants: TenantRecord[];
  identities: IdentityRecord[];
  associations: AssociationRecord[];
}

import type { IdentityType, Tag } from './validation.ts';

/** Every ARN the simulator hands out belongs to this made-up account, like AWS documentation examples. */
export const ACCOUNT_ID = '123456789012';

export type DkimStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED';
export type MailFromStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE';
export type SigningKeyLength = 'RSA_1024_BIT' | 'RSA_2048_BIT';
export type ResourceType = 'EMAIL_IDENTITY' | 'CONFIGURATION_SET' | 'EMAIL_TEMPLATE';
export type SendingStatus = 'ENABLED' | 'REINSTATED' | 'DISABLED';
export type BehaviorOnMxFailure = 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE';

export interface TenantSuppressionAttributes {
  SuppressedReasons?: ('BOUNCE' | 'COMPLAINT')[];
  SuppressionScope?: 'TENANT' | 'ACCOUNT';
}

export interface TenantRecord {
  region: string;
  name: string;
  id: string;
  arn: string;
  /** ms since the epoch; responses convert to epoch seconds. */
  createdAt: number;
  sendingStatus: SendingStatus;
  tags: Tag[];
  suppressionAttributes?: TenantSuppressionAttributes;
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

/** A custom MAIL FROM domain: SES checks its MX (feedback-smtp.<region>.amazonses.com) and SPF TXT. */
export interface MailFromRecord {
  domain: string;
  status: MailFromStatus;
  /** When the domain was set (PENDING starts its failure window). */
  setAt: number;
  /** When the records were first found missing after SUCCESS (TEMPORARY_FAILURE starts its window). */
  lapsedAt?: number;
}

export interface IdentityRecord {
  region: string;
  name: string;
  type: IdentityType;
  arn: string;
  createdAt: number;
  tags: Tag[];
  dkim: DkimRecord;
  verificationStatus: DkimStatus;
  lastCheckedAt?: number;
  lastSuccessAt?: number;
  /** When a check first found the DKIM records (PENDING -> SUCCESS): not an SES field, for the harness's floors. */
  firstSuccessAt?: number;
  /** When DKIM records were first found missing after SUCCESS; cleared when they come back. */
  lapsedAt?: number;
  /** SES's VerificationError of the last failed check (HOST_NOT_FOUND, INVALID_VALUE, ...). */
  verificationError?: string;
  mailFrom?: MailFromRecord;
  behaviorOnMxFailure: BehaviorOnMxFailure;
}

export interface AssociationRecord {
  region: string;
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

  isEmpty(): boolean {
    return this.tenants.size === 0 && this.identities.size === 0 && this.associations.size === 0;
  }

  /** Copies of every record, so a snapshot never changes under its reader. */
  view(): RegionSnapshot {
    return {
      tenants: [...this.tenants.values()].map((tenant) => structuredClone(tenant)),
      identities: [...this.identities.values()].map((identity) => structuredClone(identity)),
      associations: [...this.associations.values()].map((association) => ({ ...association })),
    };
  }
}

/**
 * The simulated account across regions. SES regions are separate namespaces: a tenant or identity
 * exists in the region it was created in, and a name may exist once per region.
 */
export class SimulatorAccount {
  readonly defaultRegion: string;
  readonly #regions = new Map<string, SimulatorState>();

  constructor(defaultRegion: string) {
    this.defaultRegion = defaultRegion;
    this.region(defaultRegion);
  }

  /** The state of one region, created on first use as SES regions need no setup. */
  region(name: string): SimulatorState {
    let state = this.#regions.get(name);
    if (!state) this.#regions.set(name, (state = new SimulatorState(name)));
    return state;
  }

  regions(): SimulatorState[] {
    return [...this.#regions.values()];
  }

  *identities(): Iterable<IdentityRecord> {
    for (const state of this.#regions.values()) yield* state.identities.values();
  }

  /** The identity as stored now, or undefined if it was deleted (or re-created) since `identity` was read. */
  isCurrent(identity: IdentityRecord): boolean {
    return this.#regions.get(identity.region)?.getIdentity(identity.name) === identity;
  }

  clear(): void {
    this.#regions.clear();
    this.region(this.defaultRegion);
  }

  /**
   * A JSON view for the control interface (times in ms since the epoch): `regions` groups records by
   * region; the flat lists hold every region's records (each names its region), as before regions existed.
   */
  snapshot(): StateSnapshot {
    const regions: Record<string, RegionSnapshot> = {};
    const sorted = [...this.#regions.values()].sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : 0));
    for (const state of sorted) if (state.region === this.defaultRegion || !state.isEmpty()) regions[state.region] = state.view();
    const all = Object.values(regions);
    return {
      region: this.defaultRegion,
      accountId: ACCOUNT_ID,
      regions,
      tenants: all.flatMap((view) => view.tenants),
      identities: all.flatMap((view) => view.identities),
      associations: all.flatMap((view) => view.associations),
    };
  }
}

export interface RegionSnapshot {
  tenants: TenantRecord[];
  identities: IdentityRecord[];
  associations: AssociationRecord[];
}

export interface StateSnapshot extends RegionSnapshot {
  /** The default region: where requests without a SigV4 credential scope go. */
  region: string;
  accountId: string;
  regions: Record<string, RegionSnapshot>;
}

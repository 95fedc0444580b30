import type { SesSetup, SesSetupSpec, SesSetupStatus } from '../../api/sessetup.ts';
import type { DnsLookup } from '../../dns/lookup.ts';
import type { EventType } from '../../runtime/events.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { SesCallOptions, SesGateway } from '../../ses/gateway.ts';
import type { ClaimIndex } from './claims.ts';
import type { DnsEndpointAccess } from './dns-endpoints.ts';
import type { RecheckSchedule } from './recheck-schedule.ts';

/** What status records about the setup's SES resources and DNS records: the facts steps learn. */
export type Facts = Pick<
  SesSetupStatus,
  'region' | 'tenant' | 'identity' | 'mailFrom' | 'dnsRecords' | 'dnsVerified' | 'dnsCheckedAt' | 'lastHandledVerifyRequest'
>;

/** The status fields that are facts (everything else in status is summarized from verdicts). */
export const FACT_KEYS = [
  'region',
  'tenant',
  'identity',
  'mailFrom',
  'dnsRecords',
  'dnsVerified',
  'dnsCheckedAt',
  'lastHandledVerifyRequest',
] as const satisfies readonly (keyof Facts)[];

/** One condition's worth of judgement: true/false, with a reason and a message a person can act on. */
export interface Judgement {
  ok: boolean;
  reason: string;
  message: string;
}

/** What the steps concluded; a later step's verdict on the same subject replaces an earlier one. */
export interface Verdicts {
  tenant?: Judgement;
  identity?: Judgement;
  /** DnsPublished, with dnsPublication ExternalDNS; `absent` removes the condition (Manual). */
  publication?: Judgement | 'absent';
  /** Set when the setup cannot progress without a change by a person (kstatus Stalled). */
  stalled?: { reason: string; message: string };
}

/** Something worth a Kubernetes Event; summarize sends them. */
export interface Happening {
  type: EventType;
  reason: string;
  message: string;
}

export interface StepResult {
  /** Facts learned: a key present replaces the fact (undefined removes it), absent keys stay. */
  learned?: Partial<Facts>;
  verdicts?: Verdicts;
  happened?: Happening[];
  /** The tenant was created in this pass (it has no associations yet). */
  tenantCreatedNow?: boolean;
  /** The identity was created in this pass (SES cannot have verified it yet). */
  identityCreatedNow?: boolean;
  /** When it was created (epoch ms), if in this pass: SES's own DKIM checks start from then. */
  identityCreatedAt?: number;
  /** SES's view of the identity was read in this pass: the facts carry it, a later step need not read it again. */
  identityReadNow?: boolean;
  /** A DNS check was booked in the re-check schedule: if its result is not stored, the retry must check again. */
  checkBooked?: boolean;
  requeueAfterMs?: number;
  /** The steps after this one cannot run (blocked, waiting for a person, or to be retried). */
  stop?: boolean;
  /** Failed: the chain stops, what was learned so far is still stored, the error goes to the work queue. */
  error?: unknown;
}

/** What a step sees: the object as read, its parsed spec, its pinned region, and the facts known so far. */
export interface StepInput {
  setup: SesSetup;
  spec: SesSetupSpec;
  region: string;
  facts: Readonly<Facts>;
  tenantCreatedNow: boolean;
  identityCreatedNow: boolean;
  identityCreatedAt?: number;
  identityReadNow: boolean;
  log: Logger;
  /** Aborted when the controller gives up on the reconcile (shutdown): a step may pass it on to its calls. */
  signal?: AbortSignal;
  /** What every SES call of this reconcile passes: the signal above, and the priority sesCallPriority chose. */
  sesCall: SesCallOptions;
}

export interface StepDeps {
  ses: SesGateway;
  dns: DnsLookup;
  claims: ClaimIndex;
  schedule: RecheckSchedule;
  /** How many setups share the re-check budget. */
  population: () => number | { verified: number; unverified: number };
  now: () => number;
  /** The operator's DNSEndpoints; undefined when it knows no namespace for them (no --dns-endpoint-namespace, no POD_NAMESPACE). */
  dnsEndpoints?: DnsEndpointAccess;
}

/**
 * One stage of a reconcile. Steps run in order; each returns what it learned and concluded, and
 * never writes status itself: summarize turns the results into conditions, Events and one patch.
 */
export interface Step {
  name: string;
  run(input: StepInput, deps: StepDeps): Promise<StepResult>;
}

/** Not done yet, with nothing wrong: the default verdict for what no step judged. */
export const NOT_YET: Judgement = { ok: false, reason: 'Creating', message: 'not created yet' };

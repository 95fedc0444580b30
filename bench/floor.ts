import type { SesSetup, SesSetupStatus } from '../src/api/sessetup.ts';
import { composeConditions } from '../src/controllers/sessetup/status.ts';
import { desiredRecords } from '../src/dns/desired-records.ts';
import { LiveDnsLookup } from '../src/dns/lookup.ts';
import { assessRecords, lookupRecords } from '../src/dns/verify-records.ts';
import { ResourceClient } from '../src/runtime/resource-client.ts';
import { AwsSesGateway } from '../src/ses/aws-gateway.ts';
import { identityArn } from '../src/ses/gateway.ts';
import { RateLimiter } from '../src/ses/rate-limiter.ts';
import type { LocalStack } from '../harness/stack/stack.ts';
import { FINALIZER, GROUP, OWNER_UID_TAG, REGION_ANNOTATION, SES_SETUP, VERSION } from '../src/api/group.ts';
import { identitySeenAgain, identityStatus, tenantStatus } from '../src/controllers/sessetup/ses-status.ts';
import type { KubeClient } from '../harness/stack/kube-client.ts';
import type { SetupSpec } from './batch.ts';
import { forEachLimit } from './pool.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimClient } from '../harness/stack/sim-client.ts';
import { atLeast, type SetupTracker } from './tracker.ts';
import type { CpuMeter, CpuUse } from './cpu.ts';

export interface FloorSample {
  /** apply -> records in status, doing only the unavoidable round trips. */
  records: number;
  /** apply -> Ready, the same, with SES's own verification wait counted as it happened. */
  ready: number;
  /** Each round trip, ms. */
  steps: Record<string, number>;
  /** The object as its Ready write left it, in bytes of JSON: what each write and watch event carries. */
  readyBytes: number;
}

/**
 * The physical floor, timed directly: a minimal client that does exactly the round trips a setup
 * cannot avoid, with the same parallelism as the operator run, on the same stack: the create and
 * its watch delivery, the finalizer write, CreateTenant + CreateEmailIdentity + association, the
 * five DNS lookups (in parallel), the status write and its watch delivery; for Ready, SES's own
 * verification, GetEmailIdentity, the lookups, the status write and its delivery. It uses the
 * operator's own SES gateway (AWS SDK), resolver and API client, and writes the status the
 * contract has (region, tenant, identity, records, conditions), built by the operator's own code:
 * the API server's cost of a write grows with the object.
 *
 * SES's verification counts as part 3 of the performance issue defines it: the identity's creation
 * plus SES's check period (the longest gap between the harness's passes so far), or SES's recorded
 * verification if that came later. No client can know sooner that SES has looked: the moment SES
 * happened to pass by (anywhere within its period) is visible only to a client polling without pause.
 */
export async function measureFloor(
  stack: LocalStack,
  kube: KubeClient,
  tracker: SetupTracker,
  sim: SimClient,
  items: { name: string; spec: SetupSpec }[],
  warmups: { name: string; spec: SetupSpec }[],
  sesPeriodMs: () => number,
  meter: CpuMeter,
): Promise<{ samples: FloorSample[]; cpu: CpuUse }> {
  const ses = new AwsSesGateway({ rateLimiter: new RateLimiter({ ratePerSecond: 1e6, burst: 1e6 }), endpoint: stack.sesEndpoint, credentials: FAKE });
  const dns = new LiveDnsLookup({ servers: [stack.dnsServer] });
  const client = new ResourceClient(kube.kc, { group: GROUP, version: VERSION, plural: SES_SETUP.plural });
  const verified = new VerificationWatch(sim);
  const region = stack.region;
  const probe = async ({ name, spec }: { name: string; spec: SetupSpec }): Promise<FloorSample> => {
    const steps: Record<string, number> = {};
    let mark = Date.now();
    const lap = (step: string, at = Date.now()) => {
      steps[step] = (steps[step] ?? 0) + (at - mark);
      mark = at;
    };
    const start = mark;
    const created = await kube.createSetup(name, spec);
    lap('create + watch', await tracker.waitFor(name, atLeast(created.metadata.resourceVersion)));
    // The region rides in the finalizer's write, as the operator's does.
    const owned = await client.addFinalizer(created, FINALIZER, { [REGION_ANNOTATION]: region });
    lap('finalizer write');
    const tags = { [OWNER_UID_TAG]: created.metadata.uid ?? '' };
    const tenant = await ses.createTenant(region, spec.tenantName, tags);
    const identity = await ses.createEmailIdentity(region, spec.domainIdentity, tags);
    const identityCreatedAt = Date.now();
    await ses.associate(region, spec.tenantName, identityArn(tenant.arn!, spec.domainIdentity));
    lap('SES create x3');
    // What SES said, in status as the operator records it (the contract's region, tenant and identity).
    const said = {
      region,
      tenant: tenantStatus(spec.tenantName, tenant, false),
      identity: { ...identityStatus(spec.domainIdentity, tenant.arn!, identity, false), tenantAssociated: true },
    };
    const desired = desiredRecords(spec, region, { tokens: identity.dkimTokens, signingHostedZone: identity.signingHostedZone });
    let results = await lookupRecords(desired, dns);
    lap('DNS lookups');
    const status: SesSetupStatus = { ...said, dnsRecords: assessRecords(desired, results, identity.dkimStatus), dnsVerified: false };
    const first = await client.patchStatus(owned, withConditions(owned, status));
    const recordsAt = await tracker.waitFor(name, atLeast(first!.metadata.resourceVersion));
    lap('status write + watch', recordsAt);

    const sesVerifiedAt = Math.max(await verified.at(spec.domainIdentity), identityCreatedAt + sesPeriodMs());
    if (sesVerifiedAt > Date.now()) await sleep(sesVerifiedAt - Date.now());
    // The poll that noticed SES's verification is not part of the floor: count from the moment it happened.
    const waitedUntil = Math.max(recordsAt, sesVerifiedAt);
    steps['SES DKIM wait'] = waitedUntil - recordsAt;
    const noticeLag = Math.max(0, Date.now() - waitedUntil);
    mark = Date.now();
    const fresh = await ses.getEmailIdentity(region, spec.domainIdentity);
    lap('SES get');
    results = await lookupRecords(desired, dns);
    lap('DNS lookups');
    const ready: SesSetupStatus = {
      ...said,
      identity: fresh ? identitySeenAgain(said.identity, fresh) : said.identity,
      dnsRecords: assessRecords(desired, results, fresh?.dkimStatus),
      dnsVerified: true,
    };
    const second = await client.patchStatus(first!, withConditions(first!, ready));
    const readyAt = await tracker.waitFor(name, atLeast(second!.metadata.resourceVersion));
    lap('status write + watch', readyAt);
    return { records: recordsAt - start, ready: readyAt - start - noticeLag, steps, readyBytes: jsonBytes(second) };
  };
  try {
    // A warm-up batch first: loading the SDK, resolving credentials and JIT compiling are start-up, not round trips.
    await Promise.all(warmups.map(probe));
    const cpuSince = meter.start();
    const samples = await Promise.all(items.map(probe));
    return { samples, cpu: cpuSince() };
  } finally {
    verified.stop();
    await deleteFloorSesResources(ses, region, [...warmups, ...items], 32);
    ses.destroy();
  }
}

/**
 * Deletes what a floor client created in SES. Tagged with owner UIDs no live setup has, these would be
 * orphans to a later operator's sweep (the scale scenario's, which would read and delete them).
 */
export async function deleteFloorSesResources(ses: AwsSesGateway, region: string, items: { spec: SetupSpec }[], concurrency: number): Promise<void> {
  await forEachLimit(items, concurrency, async ({ spec }) => {
    await ses.deleteEmailIdentity(region, spec.domainIdentity).catch(() => {});
    await ses.deleteTenant(region, spec.tenantName).catch(() => {});
  });
}

/** Conditions and observedGeneration as the operator writes them, so the floor's status writes are as large as the operator's. */
export function withConditions(setup: SesSetup, status: SesSetupStatus): SesSetupStatus {
  status.observedGeneration = setup.metadata.generation;
  const ok = { ok: true, reason: 'Ready', message: `tenant ${setup.spec.tenantName} and identity ${setup.spec.domainIdentity} exist` };
  status.conditions = composeConditions(
    setup.status?.conditions,
    { tenant: ok, identity: ok },
    status.dnsRecords,
    setup.metadata.generation,
    new Date().toISOString(),
  );
  status.dnsCheckedAt = new Date().toISOString();
  return status;
}

/** An object's size as the API server sends it (JSON, managedFields included). */
export function jsonBytes(object: unknown): number {
  return Buffer.byteLength(JSON.stringify(object));
}

const FAKE = { accessKeyId: 'bench', secretAccessKey: 'bench' };

/** When the simulated SES verified each domain's DKIM (its own record of the moment), polled for all waiters at once. */
export class VerificationWatch {
  readonly #sim: SimClient;
  readonly #waiters = new Map<string, ((at: number) => void)[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(sim: SimClient) {
    this.#sim = sim;
  }

  at(domain: string): Promise<number> {
    return new Promise((resolve) => {
      const list = this.#waiters.get(domain) ?? [];
      list.push(resolve);
      this.#waiters.set(domain, list);
      this.#timer ??= setTimeout(() => void this.#poll(), 10);
    });
  }

  async #poll(): Promise<void> {
    try {
      const state = await this.#sim.state();
      for (const identity of state.identities) {
        const waiters = this.#waiters.get(identity.name);
        if (!waiters || identity.dkim.status !== 'SUCCESS' || identity.lastSuccessAt === undefined) continue;
        this.#waiters.delete(identity.name);
        for (const resolve of waiters) resolve(identity.lastSuccessAt);
      }
    } finally {
      this.#timer = this.#waiters.size > 0 ? setTimeout(() => void this.#poll(), 10) : undefined;
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

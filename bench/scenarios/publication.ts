import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { identityArn } from '../../src/ses/gateway.ts';
import { AwsSesGateway } from '../../src/ses/aws-gateway.ts';
import { RateLimiter } from '../../src/ses/rate-limiter.ts';
import { OWNER_UID_TAG } from '../../src/api/group.ts';
import { desiredRecords } from '../../src/dns/desired-records.ts';
import { DNS_ENDPOINT, endpointsOf } from '../../src/controllers/sessetup/dns-endpoint.ts';
import { objectPath, requestJson } from '../../src/runtime/kube-http.ts';
import { installDnsEndpointCrd, startExternalDns, type ExternalDns } from '../../harness/stack/external-dns.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import type { Context } from '../context.ts';
import { setupBatch, type Item } from '../batch.ts';
import { deleteFloorSesResources, VerificationWatch } from '../floor.ts';
import { forEachLimit } from '../pool.ts';
import { percentile, percentiles } from '../stats.ts';
import { applyAll, deleteAll } from './common.ts';

/** Where the DNSEndpoints go; external-dns watches only this namespace. */
const NAMESPACE = 'bench-publication';
/** external-dns's --interval (it also syncs on DNSEndpoint events, at most once a second). */
const EXTERNAL_DNS_INTERVAL = '2s';
const FAKE = { accessKeyId: 'bench', secretAccessKey: 'bench' };

/**
 * Issue 11's figure: N setups with `dnsPublication: ExternalDNS` applied at once, apply -> Ready with
 * the real external-dns writing the records into BIND (nothing published beforehand), against the
 * floor measured in the same run: a minimal client that makes the three SES resources itself,
 * writes each DNSEndpoint itself and waits for SES's own DKIM SUCCESS. That is external-dns's sync
 * plus the simulator's DKIM check, which no operator can skip; the ratio is what the operator adds.
 */
export async function publicationScenario(ctx: Context): Promise<void> {
  const n = ctx.config.publicationSetups;
  const rounds = ctx.config.publicationRounds;
  const warm = Math.min(n, 10);
  await installDnsEndpointCrd(ctx.stack.kubeconfig);
  await ctx.kube.ensureNamespace(NAMESPACE);
  const externalDns = await startExternalDns({
    kubeconfig: ctx.stack.kubeconfig,
    dnsServer: ctx.stack.dnsServer,
    namespace: NAMESPACE,
    ownerId: 'bench',
    interval: EXTERNAL_DNS_INTERVAL,
    dir: ctx.config.outDir,
  });
  const dkim = ctx.sim.driveDkim(ctx.config.dkimIntervalMs);
  try {
    const flags = [
      ...['--ses-rate-limit', '2000', '--concurrency', String(ctx.config.concurrency ?? Math.min(n, 256))],
      ...['--recheck-fast', `${Math.round(ctx.config.dkimIntervalMs / 2)}ms`, '--recheck-fast-max', `${Math.round(ctx.config.dkimIntervalMs / 2)}ms`],
      ...['--dns-endpoint-namespace', NAMESPACE],
    ];
    const operator = await ctx.operator('publication', flags);
    try {
      const warmups = published(setupBatch('pubwarm', warm));
      await applyAll(ctx, warmups, warm);
      await waitForReady(ctx, warmups, 'the warm-up setups');
      await deleteAll(ctx, names(warmups), 120_000);
      // Where external-dns's timer stands when a batch arrives would be luck: each batch, floor and operator
      // alike, starts right after one of its syncs, so both wait out a whole interval. Rounds are pooled.
      const ready: number[] = [];
      const floor = { total: [] as number[], sesCreate: [] as number[], endpointWrite: [] as number[], publishAndVerify: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        const sample = await measurePublicationFloor(ctx, externalDns, setupBatch(`pubfloor${round}`, n), round === 0 ? setupBatch('pubfloorwarm', warm) : []);
        for (const key of Object.keys(floor) as (keyof typeof floor)[]) floor[key].push(...sample[key]);
        const items = published(setupBatch(`pub${round}`, n));
        await justSynced(externalDns);
        await applyAll(ctx, items, n);
        await waitForReady(ctx, items, `${n} setups`);
        const latencies = ctx.tracker.latencies(ctx.tracker.readyAt, names(items));
        ready.push(...latencies);
        ctx.log(`publication round ${round + 1}/${rounds}: Ready p50 ${percentile(latencies, 50)} ms (floor ${percentile(sample.total, 50)} ms)`);
        await deleteAll(ctx, names(items), 120_000);
      }
      const scenario = `publication (${n} at once, external-dns${rounds > 1 ? `, ${rounds} rounds` : ''})`;
      for (const p of [50, 95, 99]) {
        const value = percentile(ready, p);
        const ref = percentile(floor.total, p);
        ctx.add({
          scenario,
          figure: `apply -> Ready through external-dns p${p}`,
          value,
          unit: 'ms',
          reference: { label: 'floor', value: ref },
          ratio: value / ref,
          ...(p === 50 ? { budget: { text: '<= 1.5x floor', met: value / ref <= 1.5, use: value / ref / 1.5 } } : {}),
        });
      }
      ctx.details.publication = {
        setups: n,
        rounds,
        externalDnsInterval: EXTERNAL_DNS_INTERVAL,
        dkimIntervalMs: ctx.config.dkimIntervalMs,
        operatorFlags: flags,
        readyMs: percentiles(ready),
        floorMs: percentiles(floor.total),
        floorStepsP50Ms: {
          'SES create x3': percentile(floor.sesCreate, 50),
          'DNSEndpoint write': percentile(floor.endpointWrite, 50),
          'external-dns sync + SES DKIM check': percentile(floor.publishAndVerify, 50),
        },
      };
    } finally {
      await operator.stop();
    }
  } finally {
    await dkim.stop();
    await externalDns.stop();
  }
}

function published(items: Item[]): Item[] {
  return items.map((item) => ({ ...item, spec: { ...item.spec, dnsPublication: 'ExternalDNS' } }));
}

function names(items: Item[]): string[] {
  return items.map((item) => item.name);
}

function waitForReady(ctx: Context, items: Item[], what: string): Promise<boolean> {
  const list = names(items);
  return waitUntil(`${what} Ready through external-dns`, () => ctx.tracker.count(ctx.tracker.readyAt, list) === list.length, {
    timeoutMs: 300_000,
    intervalMs: 20,
  });
}

/**
 * The floor, all setups at once: CreateTenant + CreateEmailIdentity + association with the operator's
 * own SES gateway, the DNSEndpoint the operator would write (without its label and owner, so the
 * operator never sees it), then SES's own record of the DKIM SUCCESS its check found through BIND.
 */
async function measurePublicationFloor(ctx: Context, externalDns: ExternalDns, items: Item[], warmups: Item[]) {
  const ses = new AwsSesGateway({ rateLimiter: new RateLimiter({ ratePerSecond: 1e6, burst: 1e6 }), endpoint: ctx.stack.sesEndpoint, credentials: FAKE });
  const verified = new VerificationWatch(ctx.sim);
  const region = ctx.stack.region;
  const out = { total: [] as number[], sesCreate: [] as number[], endpointWrite: [] as number[], publishAndVerify: [] as number[] };
  const probe = async ({ name, spec }: Item, keep: boolean) => {
    const start = Date.now();
    const tags = { [OWNER_UID_TAG]: `floor-${name}` };
    const tenant = await ses.createTenant(region, spec.tenantName, tags);
    const identity = await ses.createEmailIdentity(region, spec.domainIdentity, tags);
    await ses.associate(region, spec.tenantName, identityArn(tenant.arn!, spec.domainIdentity));
    const created = Date.now();
    const records = desiredRecords(spec, region, { tokens: identity.dkimTokens, signingHostedZone: identity.signingHostedZone });
    const endpoint = {
      apiVersion: `${DNS_ENDPOINT.group}/${DNS_ENDPOINT.version}`,
      kind: DNS_ENDPOINT.kind,
      metadata: { name },
      spec: { endpoints: endpointsOf(records) },
    };
    await requestJson(ctx.kube.kc, 'POST', objectPath(DNS_ENDPOINT, NAMESPACE), { body: endpoint });
    const written = Date.now();
    const verifiedAt = await verified.at(spec.domainIdentity);
    if (!keep) return;
    out.sesCreate.push(created - start);
    out.endpointWrite.push(written - created);
    out.publishAndVerify.push(verifiedAt - written);
    out.total.push(verifiedAt - start);
  };
  try {
    await Promise.all(warmups.map((item) => probe(item, false)));
    await justSynced(externalDns);
    await Promise.all(items.map((item) => probe(item, true)));
  } finally {
    verified.stop();
    await deleteFloorSesResources(ses, region, [...warmups, ...items], ctx.config.apiConcurrency);
    ses.destroy();
  }
  // external-dns removes their records from BIND once the DNSEndpoints are gone.
  await forEachLimit([...warmups, ...items], ctx.config.apiConcurrency, ({ name }) =>
    requestJson(ctx.kube.kc, 'DELETE', objectPath(DNS_ENDPOINT, NAMESPACE, name)).then(() => undefined),
  );
  ctx.log(`publication floor: p50 ${percentile(out.total, 50)} ms over ${items.length} setups`);
  return out;
}

/** What external-dns logs at the end of every sync (info level): changes made, or none needed. */
const SYNC_DONE = /All records are already up to date|Adding RR|Removing RR/;

/** Resolves as soon as external-dns logs the end of a sync that started after this call. */
async function justSynced(externalDns: ExternalDns): Promise<void> {
  const file = await open(externalDns.logFile);
  try {
    let offset = (await file.stat()).size;
    for (;;) {
      const { bytesRead, buffer } = await file.read({ buffer: Buffer.alloc(1 << 20), position: offset });
      offset += bytesRead;
      if (SYNC_DONE.test(buffer.subarray(0, bytesRead).toString('utf8'))) return;
      await sleep(20);
    }
  } finally {
    await file.close();
  }
}

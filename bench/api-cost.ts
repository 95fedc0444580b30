/**
 * What each request of a new setup's life costs the API server and etcd, in CPU: the same requests
 * the operator and the latency floor make, each kind N times on a fresh control plane, 35 at a time,
 * with 0, 1 and 2 watches on SesSetups open. `node bench/api-cost.ts [N]` prints one line per kind.
 * `node bench/api-cost.ts [N] --shapes` compares instead a new setup's three writes with a status of
 * records and conditions only and with the operator's whole status (and its region annotation),
 * rounds alternating, with the two watches of a latency run open (the benchmark's and the operator's).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FINALIZER, GROUP, REGION_ANNOTATION, SES_SETUP, VERSION } from '../src/api/group.ts';
import type { SesSetup, SesSetupStatus } from '../src/api/sessetup.ts';
import { identityStatus, tenantStatus } from '../src/controllers/sessetup/ses-status.ts';
import { desiredRecords } from '../src/dns/desired-records.ts';
import { assessRecords } from '../src/dns/verify-records.ts';
import { EventRecorder } from '../src/runtime/events.ts';
import { kubeListWatch } from '../src/runtime/informer.ts';
import { objectPath } from '../src/runtime/kube-http.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { ResourceClient } from '../src/runtime/resource-client.ts';
import { startControlPlane } from '../harness/stack/control-plane.ts';
import { KubeClient } from '../harness/stack/kube-client.ts';
import { waitUntil } from '../harness/stack/wait.ts';
import { jsonBytes, withConditions } from './floor.ts';
import { forEachLimit } from './pool.ts';
import { cpuSeconds } from './proc.ts';

const args = process.argv.slice(2);
const N = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 300);
const SHAPES = args.includes('--shapes');
const SHAPE_ROUNDS = 4;
const REGION = 'us-east-1';
const TOKENS = ['a', 'b', 'c'].map((letter) => letter.repeat(32));
const AT_ONCE = 35;
const SETUPS = { group: GROUP, version: VERSION, plural: SES_SETUP.plural };

const plane = await startControlPlane();
try {
  const kube = new KubeClient(plane.kubeconfig, { retryForMs: 30_000 });
  await kube.installCrds();
  const client = new ResourceClient(kube.kc, SETUPS);
  if (SHAPES) {
    const closeWatches = await openWatches(kube, 2);
    try {
      for (let round = 0; round < SHAPE_ROUNDS; round++) {
        // Each shape goes first every other round: a control plane that slows as it fills weighs on both alike.
        const shapes = round % 2 === 0 ? (['records only', 'operator'] as const) : (['operator', 'records only'] as const);
        for (const shape of shapes) await measureShape(kube, client, shape, `${shape[0]}${round}`);
      }
    } finally {
      closeWatches();
    }
  }
  for (const watches of SHAPES ? [] : [0, 1, 2]) {
    const closeWatches = await openWatches(kube, watches);
    try {
      for (const round of [0, 1]) await measureRound(kube, client, `w${watches}r${round}`, `${watches} watches`);
    } finally {
      closeWatches();
    }
  }
} finally {
  await plane.stop();
}

async function measureRound(kube: KubeClient, client: ResourceClient, prefix: string, label: string): Promise<void> {
  const names = Array.from({ length: N }, (_, i) => `${prefix}-${i}`);
  const created: SesSetup[] = [];
  const owned: SesSetup[] = [];
  const each = (request: (name: string, index: number) => Promise<void>) => () => forEachLimit(names, AT_ONCE, request);
  await measure(
    `${label}: create`,
    each(async (name, i) => {
      created[i] = await kube.createSetup(name, { tenantName: `t-${name}`, domainIdentity: `mail.${name}.bench.test` });
    }),
  );
  await measure(
    `${label}: finalizer PATCH`,
    each(async (_, i) => {
      owned[i] = await client.addFinalizer(created[i]!, FINALIZER);
    }),
  );
  await measure(
    `${label}: GET`,
    each(async (_, i) => {
      await client.read(owned[i]!);
    }),
  );
  await measure(
    `${label}: status PATCH (records)`,
    each(async (_, i) => {
      await client.patchStatus(owned[i]!, recordsStatus(owned[i]!));
    }),
  );
  // The operator's own recorder: its Event bodies, sent its way (a few at a time, in the background).
  const recorder = new EventRecorder(kube.kc, { component: 'ses-operator', logger: silentLogger });
  await measure(`${label}: Event POST`, async () => {
    for (const setup of owned) recorder.emit(setup, 'Normal', 'Verified', 'all 5 DNS records verified; the domain is ready to send');
    await waitUntil('the Events sent', () => recorder.pending() === 0, { timeoutMs: 120_000, intervalMs: 20 });
  });
}

/** The three writes of a new setup's life: with a status of records and conditions only, or the operator's whole status. */
async function measureShape(kube: KubeClient, client: ResourceClient, shape: 'records only' | 'operator', prefix: string): Promise<void> {
  const names = Array.from({ length: N }, (_, i) => `${prefix}-${i}`);
  const created = await Promise.all(names.map((name) => kube.createSetup(name, { tenantName: `t_${name}`, domainIdentity: `mail.${name}.bench.test` })));
  const setups: SesSetup[] = [];
  const each = (request: (index: number) => Promise<void>) => () => forEachLimit(names, AT_ONCE, (_, i) => request(i));
  const annotations: Record<string, string> = shape === 'operator' ? { [REGION_ANNOTATION]: REGION } : {};
  await measure(
    `${shape}: finalizer PATCH`,
    each(async (i) => {
      setups[i] = await client.addFinalizer(created[i]!, FINALIZER, annotations);
    }),
  );
  for (const [kind, verified] of [
    ['status PATCH (records)', false],
    ['status PATCH (Ready)', true],
  ] as const) {
    await measure(
      `${shape}: ${kind}`,
      each(async (i) => {
        const status = recordsStatus(setups[i]!, verified);
        setups[i] = (await client.patchStatus(setups[i]!, shape === 'operator' ? { ...status, ...operatorBlocks(setups[i]!, verified) } : status))!;
      }),
    );
  }
  console.log(`${shape}: object when Ready ${jsonBytes(setups[0])} bytes`);
}

/** What the operator's status holds beyond records and conditions: its region, and the tenant and identity as SES described them. */
function operatorBlocks(setup: SesSetup, verified: boolean): SesSetupStatus {
  const { tenantName, domainIdentity } = setup.spec;
  const id = `tn-${setup.metadata.uid!.replace(/-/g, '').slice(0, 24)}`;
  const tenant = tenantStatus(
    tenantName,
    { name: tenantName, id, arn: `arn:aws:ses:${REGION}:123456789012:tenant/${tenantName}/${id}`, sendingStatus: 'ENABLED', tags: {} },
    false,
  );
  const dkim = verified ? 'SUCCESS' : 'PENDING';
  const identity = {
    name: domainIdentity,
    dkimStatus: dkim,
    verificationStatus: dkim,
    verifiedForSending: verified,
    dkimTokens: TOKENS,
    signingHostedZone: 'dkim.amazonses.com',
    tags: {},
  };
  return { region: REGION, tenant, identity: { ...identityStatus(domainIdentity, tenant.arn!, identity, false), tenantAssociated: true } };
}

/** CPU the API server and etcd used per request of one kind (N of them), including what the requests set off (watch delivery). */
async function measure(label: string, requests: () => Promise<void>): Promise<void> {
  await sleep(1_500);
  const cpu = () => ({ apiserver: cpuSeconds(plane.apiserver.pid) ?? NaN, etcd: cpuSeconds(plane.etcd.pid) ?? NaN });
  const before = cpu();
  await requests();
  await sleep(1_500); // the watch deliveries and etcd's own follow-up finish
  const after = cpu();
  const per = (key: 'apiserver' | 'etcd') => (((after[key] - before[key]) * 1000) / N).toFixed(2);
  console.log(`${label.padEnd(40)} API server ${per('apiserver')} ms, etcd ${per('etcd')} ms per request`);
}

/** A status as large as the operator's first one: five records, and the conditions and check time as the floor writes them. */
function recordsStatus(setup: SesSetup, verified = false): SesSetupStatus {
  const desired = desiredRecords(setup.spec, REGION, { tokens: TOKENS, signingHostedZone: 'dkim.amazonses.com' });
  const results = desired.map((record) => ({ ok: true as const, answers: [record.value] }));
  return withConditions(setup, { dnsRecords: assessRecords(desired, results, verified ? 'SUCCESS' : 'PENDING'), dnsVerified: verified });
}

/** Watches on SesSetups (the informer's own watch request) that read and drop every event, as an informer's would cost the API server. */
async function openWatches(kube: KubeClient, count: number): Promise<() => void> {
  const source = kubeListWatch(kube.kc, objectPath(SETUPS));
  const abort = new AbortController();
  for (let i = 0; i < count; i++) {
    // Right after the CRD is installed, its watch cache may still be initializing (429): wait for it.
    let events: AsyncIterable<unknown> | undefined;
    await waitUntil(
      'a watch on SesSetups',
      async () => (events = await source.watch({ resourceVersion: '', timeoutSeconds: 3_600 }, abort.signal).catch(() => undefined)),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    void (async () => {
      for await (const _ of events!); // read and dropped; ends with an error when aborted
    })().catch(() => {});
  }
  return () => abort.abort();
}

/**
 * What each request of a new setup's life costs the API server and etcd, in CPU: the same requests
 * the operator and the latency floor make, each kind N times on a fresh control plane, 35 at a time,
 * with 0, 1 and 2 watches on SesSetups open. `node bench/api-cost.ts [N]` prints one line per kind.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FINALIZER, GROUP, SES_SETUP, VERSION } from '../src/api/group.ts';
import type { SesSetup, SesSetupStatus } from '../src/api/sessetup.ts';
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
import { withConditions } from './floor.ts';
import { forEachLimit } from './pool.ts';
import { cpuSeconds } from './proc.ts';

const N = Number(process.argv[2] ?? 300);
const AT_ONCE = 35;
const SETUPS = { group: GROUP, version: VERSION, plural: SES_SETUP.plural };

const plane = await startControlPlane();
try {
  const kube = new KubeClient(plane.kubeconfig, { retryForMs: 30_000 });
  await kube.installCrds();
  const client = new ResourceClient(kube.kc, SETUPS);
  for (const watches of [0, 1, 2]) {
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
function recordsStatus(setup: SesSetup): SesSetupStatus {
  const tokens = ['a', 'b', 'c'].map((letter) => letter.repeat(32));
  const desired = desiredRecords(setup.spec, 'us-east-1', { tokens, signingHostedZone: 'dkim.amazonses.com' });
  const results = desired.map((record) => ({ ok: true as const, answers: [record.value] }));
  return withConditions(setup, { dnsRecords: assessRecords(desired, results, 'PENDING'), dnsVerified: false });
}

/** Watches on SesSetups (the informer's own watch request) that read and drop every event, as an informer's would cost the API server. */
async function openWatches(kube: KubeClient, count: number): Promise<() => void> {
  const source = kubeListWatch(kube.kc, objectPath(SETUPS));
  const abort = new AbortController();
  for (let i = 0; i < count; i++) {
    const events = await source.watch({ resourceVersion: '', timeoutSeconds: 3_600 }, abort.signal);
    void (async () => {
      for await (const _ of events); // read and dropped; ends with an error when aborted
    })().catch(() => {});
  }
  return () => abort.abort();
}

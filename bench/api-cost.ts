/**
 * What each request of a new setup's life costs the API server and etcd, in CPU: the same requests
 * the operator and the latency floor make, each kind N times on a fresh control plane, 35 at a time,
 * with 0, 1 and 2 watches on SesSetups open. `node bench/api-cost.ts [N]` prints one line per kind.
 */
import type { ClientRequest } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { FINALIZER, GROUP, SES_SETUP, VERSION } from '../src/api/group.ts';
import type { SesSetup, SesSetupStatus } from '../src/api/sessetup.ts';
import { composeConditions } from '../src/controllers/sessetup/status.ts';
import { desiredRecords } from '../src/dns/desired-records.ts';
import { assessRecords } from '../src/dns/verify-records.ts';
import { objectPath, requestJson, requestOptions, resourceUrl } from '../src/runtime/kube-http.ts';
import { ResourceClient } from '../src/runtime/resource-client.ts';
import { startControlPlane } from '../harness/stack/control-plane.ts';
import { KubeClient } from '../harness/stack/kube-client.ts';
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
  await measure(`${label}: create`, names, async (name, i) => {
    created[i] = await kube.createSetup(name, { tenantName: `t-${name}`, domainIdentity: `mail.${name}.bench.test` });
  });
  await measure(`${label}: finalizer PATCH`, names, async (_, i) => {
    owned[i] = await client.addFinalizer(created[i]!, FINALIZER);
  });
  await measure(`${label}: GET`, names, async (_, i) => {
    await client.read(owned[i]!);
  });
  await measure(`${label}: status PATCH (records)`, names, async (_, i) => {
    await client.patchStatus(owned[i]!, recordsStatus(owned[i]!));
  });
  await measure(`${label}: Event POST`, names, async (name, i) => {
    await requestJson(kube.kc, 'POST', objectPath({ group: '', version: 'v1', plural: 'events' }, 'default'), { body: event(name, owned[i]!) });
  });
}

/** CPU the API server and etcd used per request of one kind, including what the request set off (watch delivery). */
async function measure(label: string, names: string[], request: (name: string, index: number) => Promise<void>): Promise<void> {
  await sleep(1_500);
  const cpu = () => ({ apiserver: cpuSeconds(plane.apiserver.pid) ?? NaN, etcd: cpuSeconds(plane.etcd.pid) ?? NaN });
  const before = cpu();
  await forEachLimit(names, AT_ONCE, request);
  await sleep(1_500); // the watch deliveries and etcd's own follow-up finish
  const after = cpu();
  const per = (key: 'apiserver' | 'etcd') => (((after[key] - before[key]) * 1000) / names.length).toFixed(2);
  console.log(`${label.padEnd(40)} API server ${per('apiserver')} ms, etcd ${per('etcd')} ms per request`);
}

/** A status as large as the operator's first one: five records, the conditions, the check time. */
function recordsStatus(setup: SesSetup): SesSetupStatus {
  const spec = { tenantName: setup.spec.tenantName, domainIdentity: setup.spec.domainIdentity };
  const tokens = ['a', 'b', 'c'].map((letter) => letter.repeat(32));
  const desired = desiredRecords(spec, 'us-east-1', { tokens, signingHostedZone: 'dkim.amazonses.com' });
  const results = desired.map((record) => ({ ok: true as const, answers: [record.value] }));
  const dnsRecords = assessRecords(desired, results, 'PENDING');
  const ok = { ok: true, reason: 'Ready', message: `tenant ${spec.tenantName} and identity ${spec.domainIdentity} exist` };
  const now = new Date().toISOString();
  const conditions = composeConditions(undefined, { tenant: ok, identity: ok }, dnsRecords, setup.metadata.generation, now);
  return { dnsRecords, dnsVerified: false, conditions, dnsCheckedAt: now };
}

function event(name: string, setup: SesSetup): object {
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${name}.`, namespace: 'default' },
    involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: SES_SETUP.kind, name, uid: setup.metadata.uid },
    reason: 'Verified',
    message: 'all 5 DNS records verified; the domain is ready to send',
    type: 'Normal',
    source: { component: 'ses-operator' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

/** Watches on SesSetups that read and drop every event, as an informer's would cost the API server. */
async function openWatches(kube: KubeClient, count: number): Promise<() => void> {
  const requests: ClientRequest[] = [];
  for (let i = 0; i < count; i++) {
    const url = resourceUrl(kube.kc, objectPath(SETUPS), { watch: '1', allowWatchBookmarks: 'true' });
    const options = await requestOptions(kube.kc);
    await new Promise<void>((resolve, reject) => {
      const request = https.request(url, { ...options, method: 'GET' }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`watch ${url}: HTTP ${response.statusCode}`));
        response.on('data', () => {});
        resolve();
      });
      request.on('error', reject);
      request.end();
      requests.push(request);
    });
  }
  return () => requests.forEach((request) => request.destroy());
}

import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { DNS_ENDPOINT, ownedBy, type DnsEndpoint } from '../../../src/controllers/sessetup/dns-endpoint.ts';
import { objectPath, requestJson } from '../../../src/runtime/kube-http.ts';
import { splitHostPort } from '../../../harness/stack/dns-records.ts';
import { removeRecords } from '../../../harness/stack/dns-records.ts';
import { LOCAL_ZONE } from '../../../harness/stack/dns-server.ts';
import { installDnsEndpointCrd, startExternalDns, type ExternalDns } from '../../../harness/stack/external-dns.ts';
import type { TrackedSetup, Verdict } from '../invariants.ts';
import { FAST_SWEEP_FLAGS, launchOperator, type FaultOperator } from '../operator.ts';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { setups: 30, deletes: 12, kills: 12, createEveryMs: 900, timeLimitMs: 6 * 60_000 },
  small: { setups: 8, deletes: 4, kills: 4, createEveryMs: 700, timeLimitMs: 100_000 },
};

const run = promisify(execFile);

/** One resource record of the zone, as a zone transfer lists it. */
interface ZoneRecord {
  name: string;
  type: string;
  data: string;
}

/**
 * 10. Publication: every setup has `dnsPublication: ExternalDNS` and the real external-dns (CRD
 * source, RFC 2136) publishes its records in BIND; nobody else touches DNS. Setups are created and
 * deleted while the operator is SIGKILLed and restarted, half the kills aimed at the moment a setup
 * is deleted (teardown, with its DNSEndpoint, in flight). Beyond the suite's SES invariants: each live
 * setup has exactly one DNSEndpoint (its own) and its records in BIND once each; a deleted setup has
 * no DNSEndpoint and no record left in BIND, external-dns's ownership records included.
 * A fast orphan sweep runs: a setup the API server removes while it carries the finalizer
 * (kubernetes/kubernetes#77988) while the operator is killed is the sweep's to clean up, and
 * only such a setup: the sweep deleting anything of another means a teardown left it behind.
 */
export async function publication(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const w = new Workload(ctx, 'publication', 'p');
  const namespace = `${w.prefix}-dns`;
  const args = ['--dns-endpoint-namespace', namespace, ...FAST_SWEEP_FLAGS];
  let kills = 0;
  let aimed = 0;
  let duringStartup = 0;
  let publishedThenDeleted = 0;
  let dnsVerdict = { leaked: 0, duplicated: 0, problems: [] as string[] };
  let sweep = { raced: 0, swept: [] as string[] };
  await installDnsEndpointCrd(w.env.kubeconfig);
  await w.namespace('dns');
  const externalDns: ExternalDns = await startExternalDns({
    kubeconfig: w.env.kubeconfig,
    dnsServer: w.env.dnsServer,
    namespace,
    ownerId: w.prefix,
    interval: '2s',
  });
  try {
    const result = await runScenario(
      w,
      {
        timeLimitMs: size.timeLimitMs,
        faults: () => `SIGKILL x${kills} (${aimed} right after a delete, ${duringStartup} during start-up); external-dns publishing`,
        cleanup: { operator: { args } },
      },
      async (deadline) => {
        const launch = () => {
          const started = w.adopt(launchOperator(w.operatorSpec({ args })));
          started.ready().catch(() => undefined); // marks runningAt; a kill during start-up ends it
          return started;
        };
        let operator: FaultOperator = launch();
        await operator.ready();
        let workloadDone = false;
        let deletedAt = 0;

        const workload = (async () => {
          const live: TrackedSetup[] = [];
          let deleted = 0;
          for (let i = 0; i < size.setups && Date.now() < deadline; i++) {
            const tracked = w.plan(`s${i}`, { publish: false });
            await w.create(tracked, { dnsPublication: 'ExternalDNS' });
            live.push(tracked);
            const dueDeletes = Math.floor(((i + 1) * size.deletes) / size.setups);
            while (deleted < dueDeletes && live.length > 0) {
              // Some right after creation (publication still in flight), the others once published.
              const pick = Math.random() < 0.3 ? live.length - 1 : Math.floor(Math.random() * live.length);
              const [victim] = live.splice(pick, 1);
              await w.delete(victim!);
              deletedAt = Date.now();
              deleted++;
            }
            await sleep(size.createEveryMs * (0.5 + Math.random()));
          }
          // One more deletion once a setup's records are surely in BIND, so the leak check has something to find.
          const victim = live.shift();
          if (victim) {
            while (Date.now() < deadline && !(await inBind(w, victim))) await sleep(250);
            if (await inBind(w, victim)) publishedThenDeleted++;
            await w.delete(victim);
            deletedAt = Date.now();
          }
          workloadDone = true;
        })();

        const chaos = (async () => {
          while ((kills < size.kills || !workloadDone) && Date.now() < deadline) {
            const aim = kills % 2 === 0;
            const since = deletedAt;
            const startedAt = Date.now();
            if (aim) while (deletedAt === since && Date.now() - startedAt < 6_000) await sleep(10);
            else await sleep(500 + Math.random() * 2_500);
            const running = operator.runningAt !== undefined;
            await operator.kill();
            kills++;
            if (aim && deletedAt !== since) aimed++;
            if (!running) duringStartup++;
            await sleep(Math.random() * 500);
            operator = launch();
          }
        })();

        await Promise.all([workload, chaos]);
        await operator.ready('running', 60_000);
        const verdict = await w.waitConverged(deadline);
        // external-dns removes what deleted setups published at its next sync: poll until DNS is clean too.
        dnsVerdict = await checkPublication(w, namespace);
        while ((dnsVerdict.leaked > 0 || dnsVerdict.duplicated > 0 || dnsVerdict.problems.length > 0) && Date.now() < deadline) {
          await sleep(1_000);
          dnsVerdict = await checkPublication(w, namespace);
        }
        if (dnsVerdict.problems.length) w.log(`DNS: ${dnsVerdict.problems.slice(0, 10).join(' | ')}`);
        sweep = await sweptOnlyRaced(w);
        const deletedCount = [...w.setups.values()].filter((t) => t.deleted).length;
        w.notes.push(
          `${kills} kills (${aimed} right after a delete, ${duringStartup} during start-up); ${w.setups.size} setups published through external-dns, ${deletedCount} deleted ` +
            `(one with its records seen in BIND first); ` +
            `DNS: ${dnsVerdict.leaked} leaked DNSEndpoints/records, ${dnsVerdict.duplicated} duplicated records; ` +
            `${sweep.raced} removed by the API server while carrying the finalizer, ${sweep.swept.length} resources of theirs swept`,
        );
        if (kills < size.kills) w.violations.push(`only ${kills} kills of ${size.kills} before the deadline`);
        if (aimed === 0) w.violations.push('no kill landed right after a delete');
        if (publishedThenDeleted === 0) w.violations.push('no setup was deleted with its records in BIND: the leak check proved nothing');
        return withDns(verdict, dnsVerdict);
      },
    );
    return result;
  } finally {
    await externalDns.stop();
    // What the setups left at cleanup published (the DNSEndpoints went with the namespace, external-dns is gone).
    const left = (await zone(w.env.dnsServer).catch(() => [] as ZoneRecord[])).filter((r) => r.name.endsWith(`.${w.prefix}.${LOCAL_ZONE}`));
    if (left.length) await removeRecords(w.env.dnsServer, left).catch(() => undefined);
  }
}

/**
 * What the orphan sweep deleted (every operator's log) belonged to setups the API server removed
 * while they carried the finalizer: anything else means a teardown left it behind (a violation).
 */
async function sweptOnlyRaced(w: Workload): Promise<{ raced: number; swept: string[] }> {
  const raced = w.observer.removedCarryingFinalizer();
  const racedUids = new Set(raced.map((name) => w.setups.get(name)?.uid));
  const swept: string[] = [];
  for (const operator of w.operators) {
    for (const line of await operator.logs()) {
      if (!String(line.msg).startsWith('orphan swept')) continue;
      const what = `${String(line.kind)} ${String(line.name)} of ${String(line.ownerName)}`;
      swept.push(what);
      if (!racedUids.has(String(line.ownerUid))) w.violations.push(`the orphan sweep deleted ${what}: its teardown left it behind`);
    }
  }
  return { raced: raced.length, swept };
}

/** The setup's MX is in BIND: external-dns has published its DNSEndpoint. */
async function inBind(w: Workload, t: TrackedSetup): Promise<boolean> {
  return (await zone(w.env.dnsServer)).some((r) => r.name === t.domain && r.type === 'MX');
}

function withDns(verdict: Verdict, dns: { leaked: number; duplicated: number; problems: string[] }): Verdict {
  const converged = verdict.converged - new Set(dns.problems.filter((p) => p.startsWith('unpublished')).map((p) => p.split(' ')[1])).size;
  return {
    ...verdict,
    converged: Math.max(0, converged),
    leaked: verdict.leaked + dns.leaked,
    duplicated: verdict.duplicated + dns.duplicated,
    problems: [...verdict.problems, ...dns.problems],
  };
}

/**
 * The publication invariants, from the API server (DNSEndpoints, setups) and BIND (a zone transfer):
 * live setup -> one DNSEndpoint of its own, every record of its status in BIND with exactly one value;
 * deleted setup -> no DNSEndpoint, no name left under its domain. Anything else under the run's prefix leaked.
 */
async function checkPublication(w: Workload, namespace: string): Promise<{ leaked: number; duplicated: number; problems: string[] }> {
  const problems: string[] = [];
  let leaked = 0;
  let duplicated = 0;
  const [endpoints, records, setups] = await Promise.all([
    requestJson<{ items: DnsEndpoint[] }>(w.env.kube.kc, 'GET', objectPath(DNS_ENDPOINT, namespace)).then((list) => list.items),
    zone(w.env.dnsServer),
    w.env.kube.listSetups(),
  ]);
  const byName = new Map(endpoints.map((e) => [e.metadata.name, e]));
  const tracked = [...w.setups.values()];
  for (const t of tracked) {
    const endpoint = byName.get(t.name);
    byName.delete(t.name);
    if (t.deleted) {
      if (endpoint) {
        leaked++;
        problems.push(`leaked DNSEndpoint ${t.name} of a deleted setup`);
      }
      continue;
    }
    if (!endpoint || !ownedBy(endpoint, t.uid)) problems.push(`unpublished ${t.name}: ${endpoint ? 'DNSEndpoint owned by another object' : 'no DNSEndpoint'}`);
  }
  for (const name of byName.keys()) {
    leaked++;
    problems.push(`leaked DNSEndpoint ${name} (no setup of this run)`);
  }

  // BIND: each name under the run's prefix belongs to one setup's domain (external-dns's TXT ownership
  // records carry a "<type>-" prefix on the first label).
  const domainOf = (name: string) => {
    const bare = name.replace(/^(cname|mx|txt|a|aaaa)-/, '');
    return tracked.find((t) => bare === t.domain || bare.endsWith(`.${t.domain}`));
  };
  const live = new Map(setups.map((s) => [s.metadata.name, s]));
  const wanted = new Set<string>();
  for (const t of tracked.filter((x) => !x.deleted)) {
    for (const record of live.get(t.name)?.status?.dnsRecords ?? []) {
      const key = `${record.name.toLowerCase()} ${record.type}`;
      wanted.add(key);
      const found = records.filter((r) => `${r.name} ${r.type}` === key && (record.type !== 'TXT' || r.data.includes('v=DMARC1')));
      if (found.length === 0) problems.push(`unpublished ${t.name}: ${key} not in BIND`);
      if (found.length > 1) {
        duplicated += found.length - 1;
        problems.push(`duplicated ${key}: ${found.map((r) => r.data).join(' | ')}`);
      }
    }
  }
  for (const record of records.filter((r) => r.name.endsWith(`.${w.prefix}.${LOCAL_ZONE}`))) {
    const owner = domainOf(record.name);
    const key = `${record.name} ${record.type}`;
    if (owner && !owner.deleted && (wanted.has(key) || record.type === 'TXT')) continue; // its records and external-dns's ownership TXTs
    leaked++;
    problems.push(`leaked ${key} ${record.data} in BIND (${owner ? `setup ${owner.name}${owner.deleted ? ', deleted' : ''}` : 'no setup'})`);
  }
  return { leaked, duplicated, problems };
}

/** Every record of the local zone, by zone transfer (AXFR), names lower-case without the trailing dot. */
async function zone(server: string): Promise<ZoneRecord[]> {
  const [host, port] = splitHostPort(server);
  const { stdout } = await run('dig', ['+noall', '+answer', `@${host}`, '-p', String(port), 'AXFR', LOCAL_ZONE]);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 5)
    .map(([name, , , type, ...data]) => ({ name: name!.replace(/\.$/, '').toLowerCase(), type: type!, data: data.join(' ') }));
}

import {
  CreateTenantCommand,
  DeleteEmailIdentityCommand,
  DeleteTenantCommand,
  DeleteTenantResourceAssociationCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SesSetup } from '../../../src/api/sessetup.ts';
import { publishRecords, removeRecords } from '../../../harness/stack/dns-records.ts';
import { FAKE_AWS_ENV } from '../../../harness/stack/local-operator.ts';
import { DEFAULT_RECHECK, RecheckSchedule } from '../../../src/controllers/sessetup/recheck-schedule.ts';
import type { TrackedSetup } from '../invariants.ts';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

/** The operator's --ses-rate-limit here (requests/s). */
const RATE = 20;

const SIZES = {
  full: { rounds: 3, slowRecheckS: 5, timeLimitMs: 8 * 60_000 },
  small: { rounds: 1, slowRecheckS: 5, timeLimitMs: 150_000 },
};

/** The kinds of drift, one setup each per round. */
const KINDS = ['tenant-deleted', 'identity-deleted', 'association-deleted', 'replaced', 'dkim-lapse', 'paused', 'access-denied'] as const;
type Kind = (typeof KINDS)[number];

const condition = (setup: SesSetup | undefined, type: string) => setup?.status?.conditions?.find((c) => c.type === type);

/**
 * 8. Drift: verified setups, then SES changed behind the operator's back, one kind per setup:
 * tenant, identity or association deleted out of band; the tenant replaced by an untagged one of
 * the same name; the DKIM CNAMEs removed (SES lapses) and published again; the tenant paused and
 * reinstated; AccessDenied on GetTenant, then granted. Each must be detected within one slow
 * re-check (with the test's --recheck-slow, plus room for the fast checks that follow), repaired
 * or reported, the foreign tenant untouched, and the denied setup retried slowly (no hot loop).
 * Then every setup is Ready again (the replaced one is deleted: its identity goes, the foreign
 * tenant stays), with the same invariants as every scenario.
 */
export async function drift(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const slowMs = size.slowRecheckS * 1000;
  const w = new Workload(ctx, 'drift', 'd');
  /**
   * One slow re-check as the operator's schedule stretches it for every setup in its cache (the
   * shared cluster of `npm test` holds other tests' setups too, unverified ones first), with its
   * jitter, plus the fast checks and status write after it.
   */
  const schedule = new RecheckSchedule({ ...DEFAULT_RECHECK, slowMs, sesRatePerSecond: RATE });
  const detectionLimit = async () => {
    const setups = await w.env.kube.listSetups();
    const verified = setups.filter((setup) => setup.status?.dnsVerified === true).length;
    // The small size runs in npm test's shared cluster beside other tests' operators and setups: more room for the status write.
    return 1.1 * schedule.slowIntervalMs({ verified, unverified: setups.length - verified }) + (ctx.size === 'small' ? 12_000 : 6_000);
  };
  const detections: string[] = [];
  const sdk = new SESv2Client({
    endpoint: w.env.sesEndpoint,
    region: w.env.region,
    credentials: { accessKeyId: FAKE_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  /** Someone else with access to the account, through the AWS SDK: not the operator's calls. */
  const outside = async (send: (client: SESv2Client) => Promise<unknown>) => {
    w.harnessCalls++;
    await send(sdk);
  };

  /** Waits until `seen` holds for the setup (as the watch delivers it), and records how long that took. */
  async function detected(t: TrackedSetup, kind: string, since: number, seen: (setup: SesSetup | undefined) => boolean | Promise<boolean>): Promise<void> {
    const detectionLimitMs = await detectionLimit();
    const limit = since + detectionLimitMs;
    while (!(await seen(w.observer.latest.get(t.name)))) {
      if (Date.now() > limit + 20_000) {
        w.violations.push(`${kind} on ${t.name} not detected within ${((Date.now() - since) / 1000).toFixed(1)} s`);
        return;
      }
      await sleep(100);
    }
    const tookMs = Date.now() - since;
    detections.push(`${kind} ${(tookMs / 1000).toFixed(1)} s`);
    if (tookMs > detectionLimitMs) w.violations.push(`${kind} on ${t.name} detected after ${(tookMs / 1000).toFixed(1)} s, more than one slow re-check`);
  }

  async function inject(t: TrackedSetup, kind: Kind): Promise<void> {
    const since = Date.now();
    const setup = w.observer.latest.get(t.name)!;
    switch (kind) {
      case 'tenant-deleted':
        w.allowedCreates.set(t.tenantName, (w.allowedCreates.get(t.tenantName) ?? 1) + 1);
        await outside((c) => c.send(new DeleteTenantCommand({ TenantName: t.tenantName })));
        return detected(t, kind, since, (s) => s?.status?.tenant?.arn !== undefined && s.status.tenant.arn !== setup.status!.tenant!.arn);
      case 'identity-deleted':
        w.allowedCreates.set(t.domain, (w.allowedCreates.get(t.domain) ?? 1) + 1);
        await outside((c) => c.send(new DeleteEmailIdentityCommand({ EmailIdentity: t.domain })));
        // A new identity has new DKIM tokens; the workload publishes the new records as they appear.
        return detected(t, kind, since, (s) => (s?.status?.identity?.dkimTokens?.[0] ?? '') !== setup.status!.identity!.dkimTokens![0]);
      case 'association-deleted': {
        const seq = await w.env.sim.mark();
        await outside((c) => c.send(new DeleteTenantResourceAssociationCommand({ TenantName: t.tenantName, ResourceArn: setup.status!.identity!.arn! })));
        return detected(t, kind, since, async () =>
          (await w.env.sim.calls(seq)).log.some((c) => c.operation === 'CreateTenantResourceAssociation' && c.status === 200 && c.target === t.tenantName),
        );
      }
      case 'replaced': {
        await outside((c) => c.send(new DeleteTenantCommand({ TenantName: t.tenantName })));
        await outside((c) => c.send(new CreateTenantCommand({ TenantName: t.tenantName })));
        w.allowedCreates.set(t.tenantName, (w.allowedCreates.get(t.tenantName) ?? 1) + 1);
        w.foreign.push({ kind: 'tenant', name: t.tenantName, tags: [], sinceSeq: await w.env.sim.mark() });
        t.expect = 'tenant-not-owned';
        await detected(t, kind, since, (s) => condition(s, 'TenantReady')?.reason === 'TenantNotOwned' && condition(s, 'Stalled')?.status === 'True');
        // Reported; its own identity goes with its deletion, the foreign tenant stays.
        await w.delete(t);
        return;
      }
      case 'dkim-lapse': {
        const dkim = setup.status!.dnsRecords!.filter((r) => r.purpose === 'DKIM');
        await removeRecords(w.env.dnsServer, dkim);
        await detected(t, kind, since, (s) => condition(s, 'Ready')?.status === 'False' && s?.status?.dnsRecords?.[0]?.verified === false);
        // Until SES itself reports the lapse on the record, then the records go back.
        const lapsed = Date.now();
        while (!w.observer.latest.get(t.name)?.status?.dnsRecords?.[0]?.message.startsWith('SES reports DKIM TEMPORARY_FAILURE')) {
          if (Date.now() - lapsed > 30_000) {
            w.violations.push(`the DKIM lapse of ${t.name} never showed SES's TEMPORARY_FAILURE on its records`);
            break;
          }
          await sleep(200);
        }
        await publishRecords(
          w.env.dnsServer,
          dkim.map((r) => ({ name: r.name, type: r.type, value: r.value })),
        );
        return;
      }
      case 'paused':
        await w.env.sim.setTenantSendingStatus(t.tenantName, 'DISABLED', w.env.region);
        await detected(t, kind, since, (s) => condition(s, 'TenantReady')?.reason === 'TenantPaused');
        await w.env.sim.setTenantSendingStatus(t.tenantName, 'REINSTATED', w.env.region);
        return detected(t, 'reinstated', Date.now(), (s) => condition(s, 'TenantReady')?.status === 'True');
      case 'access-denied': {
        const rule = await w.env.sim.injectError({ operation: 'GetTenant', error: 'AccessDeniedException', resource: t.tenantName });
        await detected(
          t,
          kind,
          since,
          (s) => condition(s, 'Stalled')?.reason === 'AccessDenied' && /deploy\/iam-policy\.json/.test(condition(s, 'Stalled')!.message),
        );
        // Retried slowly: at most one try per retry interval (--recheck-fast-max, 2 s in tests), never a burst.
        const seq = await w.env.sim.mark();
        const windowMs = 3 * slowMs;
        await sleep(windowMs);
        const tries = (await w.env.sim.calls(seq)).log.filter((c) => c.target === t.tenantName).length;
        w.notes.push(`AccessDenied: ${tries} tries in ${windowMs / 1000} s`);
        if (tries > windowMs / 2_000 + 2) w.violations.push(`AccessDenied on ${t.name}: ${tries} tries in ${windowMs / 1000} s (hot loop)`);
        await w.env.sim.clearErrors(rule.id);
        return;
      }
    }
  }

  const operatorArgs = ['--ses-rate-limit', String(RATE), '--recheck-slow', `${size.slowRecheckS}s`];
  try {
    return await runScenario(
      w,
      {
        timeLimitMs: size.timeLimitMs,
        faults: () => `drift: ${KINDS.join(', ')} x${size.rounds} (--recheck-slow ${size.slowRecheckS}s)`,
        cleanup: { operator: { args: operatorArgs } },
      },
      async (deadline) => {
        await w.startOperator({ args: operatorArgs });
        for (let round = 0; round < size.rounds; round++) {
          const tracked = KINDS.map((kind) => ({ kind, t: w.plan(`r${round}-${kind}`) }));
          await Promise.all(tracked.map(({ t }) => w.create(t)));
          const ready = await w.waitConverged(deadline, `round ${round}: every setup Ready`);
          if (ready.converged !== ready.objects) return ready;
          await Promise.all(tracked.map(({ kind, t }) => inject(t, kind)));
        }
        return w.waitConverged(deadline, 'every setup Ready again, the replaced ones gone');
      },
    ).then((result) => ({ ...result, notes: [...result.notes, `detected after: ${detections.join(', ')}`] }));
  } finally {
    sdk.destroy();
  }
}

import { VERIFY_ANNOTATION } from '../../../src/api/group.ts';
import { waitUntil } from '../../../harness/stack/wait.ts';
import { startDnsFaultProxy, type DnsFaultMode } from '../dns-proxy.ts';
import type { TrackedSetup } from '../invariants.ts';
import { runScenario, Workload, type ScenarioContext, type ScenarioResult } from '../workload.ts';

const SIZES = {
  full: { setups: 10, newPerFault: 2, timeLimitMs: 5 * 60_000 },
  small: { setups: 3, newPerFault: 1, timeLimitMs: 100_000 },
};

/** The words a record's message must carry while the resolver misbehaves this way. */
const REASONS: Record<Exclude<DnsFaultMode, 'forward'>, { label: string; pattern: RegExp }> = {
  servfail: { label: 'SERVFAIL', pattern: /SERVFAIL/ },
  drop: { label: 'timeouts', pattern: /timed out/ },
  closed: { label: 'unreachable resolver', pattern: /no DNS server reachable/ },
};

/**
 * 4. DNS faults: the operator resolves through a fault proxy in front of BIND (SES's own DKIM
 * view keeps using BIND directly). Verified setups are asked to verify again while the resolver
 * answers SERVFAIL, times out, or is a closed port; setups are also created during each fault.
 * Every record must name the reason, no setup may stay Ready, the operator must not crash, and
 * once DNS is back every setup turns Ready again.
 */
export async function dnsFaults(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = SIZES[ctx.size];
  const proxy = await startDnsFaultProxy(ctx.env.dnsServer);
  const w = new Workload(ctx, 'dns-faults', 'd');
  const modes: string[] = [];
  try {
    return await runScenario(w, { timeLimitMs: size.timeLimitMs, faults: () => `DNS: ${modes.join(', ')} (each followed by recovery)` }, async (deadline) => {
      const operator = await w.startOperator({ dnsServers: proxy.address, args: ['--dns-timeout', '500ms'] });
      const all: TrackedSetup[] = Array.from({ length: size.setups }, (_, i) => w.plan(`s${i}`));
      await Promise.all(all.map((t) => w.create(t)));
      let verdict = await w.waitConverged(deadline, 'every setup Ready before the faults');
      let round = 0;
      for (const mode of ['servfail', 'drop', 'closed'] as const) {
        const reason = REASONS[mode];
        modes.push(reason.label);
        await proxy.setMode(mode);
        // Ask every setup for a fresh check now, and create new ones while DNS is broken.
        for (const t of all) await w.env.kube.annotateSetup(t.name, { [VERIFY_ANNOTATION]: `${mode}-${round}` });
        const fresh = Array.from({ length: size.newPerFault }, (_, i) => w.plan(`${mode}${i}`));
        await Promise.all(fresh.map((t) => w.create(t)));
        all.push(...fresh);
        // Every setup must report the reason on every record it checked live, and none may be Ready.
        let missing = all.map((t) => t.name);
        await waitUntil(
          `every setup to report ${reason.label}`,
          async () => {
            const notYet: string[] = [];
            for (const t of all) {
              const setup = await w.env.kube.getSetup(t.name);
              const records = setup?.status?.dnsRecords ?? [];
              const ready = setup?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
              // DKIM CNAMEs are checked live too: all five records must carry the reason.
              if (records.length !== 5 || !records.every((r) => !r.verified && reason.pattern.test(r.message)) || ready === 'True') notYet.push(t.name);
            }
            missing = notYet;
            return notYet.length === 0;
          },
          { timeoutMs: Math.min(30_000, deadline - Date.now()), intervalMs: 300 },
        ).catch(() => undefined);
        if (missing.length > 0) w.violations.push(`${mode}: records of ${missing.join(', ')} did not report ${reason.label}`);
        if (!operator.alive()) throw new Error(`the operator exited (${operator.exitCode}) during ${mode}`);
        const example = (await w.env.kube.getSetup(all[0]!.name))?.status?.dnsRecords?.[4]?.message;
        w.notes.push(`${reason.label}: every record of ${all.length} setups said so, e.g. "${example}"`);
        // Recovery: DNS answers again, a verify request (or the fast re-check) turns every setup Ready.
        await proxy.setMode('forward');
        for (const t of all) await w.env.kube.annotateSetup(t.name, { [VERIFY_ANNOTATION]: `recovered-${round}` });
        verdict = await w.waitConverged(deadline, `recovery after ${mode}`);
        if (verdict.converged !== verdict.objects) w.violations.push(`no recovery after ${mode}`);
        round++;
      }
      const counts = proxy.counts();
      const healthz = operator.probesUrl ? (await fetch(`${operator.probesUrl}/healthz`).catch(() => undefined))?.status : undefined;
      w.notes.push(
        `proxy saw ${counts.forward} forwarded, ${counts.servfail} SERVFAIL-answered and ${counts.drop} dropped queries; the operator stayed up (one process, no restart, /healthz ${healthz})`,
      );
      if (healthz !== 200) w.violations.push(`/healthz answered ${healthz} after the DNS faults`);
      if (!operator.alive()) w.violations.push(`the operator exited (${operator.exitCode})`);
      return verdict;
    });
  } finally {
    await proxy.close();
  }
}

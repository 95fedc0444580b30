import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SesSetup } from '../../src/api/sessetup.ts';
import type { CallRecord } from '../../harness/simulator/call-log.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { publishRecords, removeRecords, type PublishedRecord } from '../../harness/stack/dns-records.ts';
import type { FaultEnv } from './env.ts';
import { checkInvariants, type Expectation, type ForeignResource, type TrackedSetup, type Verdict } from './invariants.ts';
import { SetupObserver } from './observer.ts';
import { FAKE_AWS_ENV } from '../../harness/stack/local-operator.ts';
import { startOperator, type FaultOperator, type OperatorSpec } from './operator.ts';

export type Size = 'small' | 'full';

export interface ScenarioContext {
  env: FaultEnv;
  size: Size;
  log: (line: string) => void;
}

/** One row of the table, plus what the row cannot show. */
export interface ScenarioResult {
  scenario: string;
  faults: string;
  objects: number;
  converged: number;
  leaked: number;
  duplicated: number;
  sesCalls: number;
  timeMs: number;
  /** Invariant breaches and failed scenario checks: any one fails the scenario. */
  violations: string[];
  /** What happened, in numbers (kills, restarts, fault answers, ...). */
  notes: string[];
  /** Operator log files, for the secret scan. */
  logFiles: string[];
  /** SesSetup versions the watch checked (Ready only when verified; no secret in them). */
  watchedVersions: number;
}

export function passed(result: ScenarioResult): boolean {
  return result.converged === result.objects && result.leaked === 0 && result.duplicated === 0 && result.violations.length === 0;
}

/** A short lower-case prefix unique to one scenario run, valid in object names, tenant names and DNS labels. */
export function runPrefix(letter: string): string {
  return `f${letter}${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
}

/**
 * One scenario's objects and bookkeeping: the setups it created (and what each should end as),
 * foreign SES resources it planted, the operators it started, a watcher checking every status
 * the API server hands out, and a "customer" publishing DNS records as they appear in status.
 */
export class Workload {
  readonly env: FaultEnv;
  readonly prefix: string;
  readonly name: string;
  readonly setups = new Map<string, TrackedSetup>();
  readonly foreign: ForeignResource[] = [];
  readonly allowedCreates = new Map<string, number>();
  readonly operators: FaultOperator[] = [];
  readonly violations: string[] = [];
  readonly notes: string[] = [];
  readonly namespaces = new Set<string>();
  readonly useCases: { namespace: string; name: string }[] = [];
  readonly observer: SetupObserver;
  /** When start() ran: the scenario's clock. */
  startedAt = Date.now();
  /** SES calls the harness itself made (planting foreign resources): not counted as the operator's. */
  harnessCalls = 0;
  /** Extra duplicates found by a scenario's own checks (e.g. one object reconciled by two replicas at once). */
  extraDuplicated = 0;
  readonly #log: (line: string) => void;
  #startSeq = 0;
  #published = new Map<string, string>();
  #pending = new Map<string, PublishedRecord[]>();
  #publishing: Promise<void> = Promise.resolve();
  #publishTimer: NodeJS.Timeout | undefined;
  #dnsNames: { name: string; type: string }[] = [];

  constructor(ctx: ScenarioContext, name: string, letter: string) {
    this.env = ctx.env;
    this.name = name;
    this.prefix = runPrefix(letter);
    this.#log = (line) => ctx.log(`[${name}] ${line}`);
    this.observer = new SetupObserver(
      ctx.env.kube.kc,
      (setupName) => this.ownsSetup(setupName),
      (setup) => this.#maybePublish(setup),
    );
    // Every status version the watch delivers is searched for the credentials and the bearer token.
    this.observer.needles = [...Object.values(FAKE_AWS_ENV), ...(ctx.env.bearerToken ? [ctx.env.bearerToken] : [])];
  }

  log(line: string): void {
    this.#log(line);
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    await this.observer.synced();
    this.#startSeq = (await this.env.sim.calls(Number.MAX_SAFE_INTEGER)).total;
    this.#publishTimer = setInterval(() => this.#flushPublishing(), 250);
  }

  ownsSetup(name: string): boolean {
    return name.startsWith(`${this.prefix}-`);
  }
  ownsTenant(name: string): boolean {
    return name.startsWith(`${this.prefix}_`);
  }
  ownsIdentity(name: string): boolean {
    return name.toLowerCase().endsWith(`.${this.prefix}.test`);
  }

  /** Names for one setup: `<prefix>-<label>`, tenant `<prefix>_<label>`, domain `<label>.<prefix>.test`. */
  plan(
    label: string,
    options: {
      expect?: Expectation;
      deletionPolicy?: 'Delete' | 'Retain';
      publish?: boolean;
      tenantName?: string;
      domain?: string;
      /** spec.region: the setup names its region. */
      specRegion?: string;
      /** Where its SES resources must end up when spec.region is unset: the default region of the operator that first sees it. */
      region?: string;
    } = {},
  ): TrackedSetup {
    const expect = options.expect ?? 'ready';
    const tracked: TrackedSetup = {
      name: `${this.prefix}-${label}`,
      tenantName: options.tenantName ?? `${this.prefix}_${label}`,
      domain: options.domain ?? `${label}.${this.prefix}.test`,
      deletionPolicy: options.deletionPolicy ?? 'Delete',
      ...(options.specRegion || options.region ? { region: options.specRegion ?? options.region } : {}),
      ...(options.specRegion ? { specRegion: options.specRegion } : {}),
      expect,
      publish: options.publish ?? expect === 'ready',
      deleted: false,
    };
    this.setups.set(tracked.name, tracked);
    return tracked;
  }

  async create(tracked: TrackedSetup, extraSpec: Record<string, unknown> = {}): Promise<SesSetup> {
    const created = await this.env.kube.createSetup(tracked.name, {
      tenantName: tracked.tenantName,
      domainIdentity: tracked.domain,
      deletionPolicy: tracked.deletionPolicy,
      ...(tracked.specRegion ? { region: tracked.specRegion } : {}),
      ...extraSpec,
    });
    tracked.uid = created.metadata.uid;
    return created;
  }

  async delete(tracked: TrackedSetup): Promise<void> {
    tracked.deleted = true;
    await this.env.kube.deleteSetup(tracked.name);
  }

  async namespace(name: string): Promise<string> {
    const full = `${this.prefix}-${name}`;
    await this.env.kube.ensureNamespace(full);
    this.namespaces.add(full);
    return full;
  }

  async createUseCase(namespace: string, name: string, setup: string, fromAddress: string): Promise<void> {
    await this.env.kube.createUseCase(namespace, name, { sesSetupRef: { name: setup }, fromAddress });
    this.useCases.push({ namespace, name });
  }

  operatorSpec(extra: Partial<OperatorSpec> = {}): OperatorSpec {
    return { env: this.env, ...extra };
  }

  async startOperator(extra: Partial<OperatorSpec> = {}, waitFor = 'running'): Promise<FaultOperator> {
    const operator = await startOperator(this.operatorSpec(extra), waitFor);
    this.operators.push(operator);
    return operator;
  }

  adopt(operator: FaultOperator): FaultOperator {
    this.operators.push(operator);
    return operator;
  }

  /** The simulator's calls since the scenario started. */
  async calls(): Promise<CallRecord[]> {
    return (await this.env.sim.calls(this.#startSeq)).log;
  }

  /** SES calls the operators made for this scenario's names. */
  async sesCalls(): Promise<number> {
    const calls = await this.calls();
    return calls.filter((call) => !call.target || this.ownsTenant(call.target) || this.ownsIdentity(call.target)).length - this.harnessCalls;
  }

  async check(): Promise<Verdict> {
    const [state, calls, setups] = await Promise.all([this.env.sim.state(), this.calls(), this.env.kube.listSetups()]);
    const verdict = checkInvariants({
      owns: { tenant: (n) => this.ownsTenant(n), identity: (n) => this.ownsIdentity(n), setup: (n) => this.ownsSetup(n) },
      tracked: [...this.setups.values()],
      foreign: this.foreign,
      allowedCreates: this.allowedCreates,
      state,
      calls,
      setups: setups.filter((s) => this.ownsSetup(s.metadata.name)),
    });
    for (const v of this.observer.violations) verdict.violations.push(`watch saw ${v.name} rv ${v.resourceVersion}: ${v.detail}`);
    for (const where of this.observer.secretsFound) verdict.violations.push(`a credential or token in SesSetup ${where}`);
    verdict.duplicated += this.extraDuplicated;
    verdict.violations.push(...this.violations);
    return verdict;
  }

  /** Polls the invariants until every object converged with nothing leaked, or the deadline passes. */
  async waitConverged(deadline: number, what = 'convergence'): Promise<Verdict> {
    let verdict = await this.check();
    let lastLog = 0;
    while (!(verdict.converged === verdict.objects && verdict.leaked === 0) && Date.now() < deadline) {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        this.log(
          `waiting for ${what}: ${verdict.converged}/${verdict.objects} converged, ${verdict.leaked} leaked; e.g. ${verdict.problems.slice(0, 3).join(' | ')}`,
        );
      }
      await sleep(500);
      verdict = await this.check();
    }
    if (verdict.converged !== verdict.objects || verdict.leaked !== 0) {
      this.log(`no ${what} by the deadline: ${verdict.problems.slice(0, 10).join(' | ')}`);
      const byUid = new Map([...this.setups.values()].map((t) => [t.uid, t.name]));
      for (const problem of verdict.problems.filter((p) => p.startsWith('leaked')).slice(0, 3)) {
        const name = byUid.get(/owner ([0-9a-f-]+)/.exec(problem)?.[1]);
        if (name) this.log(`  ${problem}: setup ${name}: ${(this.observer.journal.get(name) ?? []).join(' | ')}`);
      }
      for (const problem of verdict.problems.slice(0, 5)) {
        const name = problem.split(':')[0]!;
        const seen = this.observer.latest.get(name);
        if (!seen) continue;
        this.log(
          `  ${name}: rv ${seen.metadata.resourceVersion}, dnsCheckedAt ${seen.status?.dnsCheckedAt}, records published: ${this.#published.has(name)}, last watched ${this.observer.lastSeenAt.get(name) ? new Date(this.observer.lastSeenAt.get(name)!).toISOString() : 'never'}`,
        );
      }
    }
    return verdict;
  }

  /**
   * Deletes whatever the scenario left (use cases, namespaces, setups) through a fresh operator,
   * strips finalizers of anything stuck past the deadline, and checks SES holds nothing of this
   * scenario any more except what Retain and foreign resources keep. Returns extra leaks found.
   */
  async cleanup(options: { operator?: Partial<OperatorSpec>; timeoutMs?: number } = {}): Promise<number> {
    clearInterval(this.#publishTimer);
    for (const operator of this.operators) if (operator.alive()) await operator.stop();
    await this.env.sim.setFaults({}).catch(() => undefined);
    let extraLeaks = 0;
    let cleaner: FaultOperator | undefined;
    try {
      cleaner = await startOperator(this.operatorSpec(options.operator));
      this.operators.push(cleaner);
      for (const useCase of this.useCases) await this.env.kube.deleteUseCase(useCase.namespace, useCase.name);
      const left = (await this.env.kube.listSetups()).filter((s) => this.ownsSetup(s.metadata.name));
      for (const setup of left) {
        const tracked = this.setups.get(setup.metadata.name);
        if (tracked) tracked.deleted = true;
        await this.env.kube.deleteSetup(setup.metadata.name);
      }
      let remaining = left.length;
      await waitUntil(
        'the deleted setups to be gone',
        async () => (remaining = (await this.env.kube.listSetups()).filter((s) => this.ownsSetup(s.metadata.name)).length) === 0,
        { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 250 },
      ).catch(() => undefined);
      if (remaining > 0) this.violations.push(`cleanup: ${remaining} setups still present after deletion`);
      const verdict = await this.check();
      extraLeaks = verdict.leaked;
      if (extraLeaks > 0) this.log(`after cleanup: ${verdict.problems.filter((p) => p.startsWith('leaked')).join(' | ')}`);
    } catch (error) {
      this.violations.push(`cleanup failed: ${(error as Error).message}`);
    } finally {
      await cleaner?.stop();
      for (const setup of (await this.env.kube.listSetups().catch(() => [])).filter((s) => this.ownsSetup(s.metadata.name))) {
        await this.env.kube.clearSetupFinalizers(setup.metadata.name).catch(() => undefined);
        await this.env.kube.deleteSetup(setup.metadata.name).catch(() => undefined);
      }
      for (const namespace of this.namespaces) await this.env.kube.deleteNamespace(namespace).catch(() => undefined);
      await this.observer.stop();
      await this.#publishing;
      if (this.#dnsNames.length) await removeRecords(this.env.dnsServer, this.#dnsNames).catch(() => undefined);
    }
    return extraLeaks;
  }

  /** The table row, from the final verdict. */
  async result(verdict: Verdict, faults: string, extraLeaks = 0): Promise<ScenarioResult> {
    return {
      scenario: this.name,
      faults,
      objects: verdict.objects,
      converged: verdict.converged,
      leaked: verdict.leaked + extraLeaks,
      duplicated: verdict.duplicated,
      sesCalls: await this.sesCalls(),
      timeMs: Date.now() - this.startedAt,
      violations: [...new Set([...verdict.violations, ...this.violations])],
      notes: this.notes,
      logFiles: this.operators.map((o) => o.logFile),
      watchedVersions: this.observer.versions,
    };
  }

  #maybePublish(setup: SesSetup): void {
    const tracked = this.setups.get(setup.metadata.name);
    if (!tracked?.publish || tracked.deleted || setup.metadata.deletionTimestamp) return;
    const records = setup.status?.dnsRecords ?? [];
    if (records.length !== 5) return;
    const key = records.map((r) => `${r.name} ${r.type} ${r.value}`).join('|');
    if (this.#published.get(setup.metadata.name) === key) return;
    this.#published.set(setup.metadata.name, key);
    this.#pending.set(
      setup.metadata.name,
      records.map((r) => ({ name: r.name, type: r.type, value: r.value })),
    );
  }

  /** One nsupdate for everything that appeared since the last one. */
  #flushPublishing(): void {
    if (this.#pending.size === 0) return;
    const entries = [...this.#pending];
    this.#pending.clear();
    const batch = entries.flatMap(([, records]) => records);
    this.#dnsNames.push(...batch.map((r) => ({ name: r.name, type: r.type })));
    this.#publishing = this.#publishing.then(() =>
      publishRecords(this.env.dnsServer, batch).catch((error: unknown) => {
        this.log(`publishing records failed (will retry): ${(error as Error).message}`);
        for (const [name, records] of entries) if (!this.#pending.has(name)) this.#pending.set(name, records);
      }),
    );
  }
}

/**
 * Runs a scenario body with a hard time limit, always cleans up (even after a failure), and turns
 * the final verdict into the table row. The body returns its final verdict; `faults` is read
 * afterwards so it can describe what was actually injected.
 */
export async function runScenario(
  w: Workload,
  options: { timeLimitMs: number; faults: () => string; cleanup?: Parameters<Workload['cleanup']>[0] },
  body: (deadline: number) => Promise<Verdict>,
): Promise<ScenarioResult> {
  const deadline = Date.now() + options.timeLimitMs;
  let verdict: Verdict | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await w.start();
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`time limit of ${options.timeLimitMs / 1000} s reached`)), options.timeLimitMs + 30_000);
    });
    verdict = await Promise.race([body(deadline), limit]);
  } catch (error) {
    w.violations.push(`scenario stopped: ${(error as Error).message}`);
    w.log(`stopped: ${(error as Error).stack ?? (error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  verdict ??= await w.check().catch(() => ({ objects: w.setups.size, converged: 0, leaked: 0, duplicated: 0, problems: [], violations: [] }));
  const timeMs = Date.now() - w.startedAt;
  const extraLeaks = await w.cleanup(options.cleanup);
  const result = await w.result(verdict, options.faults(), extraLeaks);
  // Time is the scenario's own run, without the cleanup.
  result.timeMs = timeMs;
  return result;
}

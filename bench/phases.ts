import type { CallRecord } from '../harness/simulator/call-log.ts';
import type { Item } from './batch.ts';
import type { FloorSample } from './floor.ts';
import { percentile } from './stats.ts';

/**
 * Where a new setup's time goes, phase by phase, for the operator and the floor side by side: the
 * operator's phases are read off SES's call log (when each create arrived) and the harness's watch
 * (records and Ready in status), the floor's from its own timed round trips.
 */
export type Phases = Record<PhaseName, number>;

export type PhaseName = 'before SES' | 'SES creates' | 'after SES to records' | 'records to Ready';

/** Per operator setup: apply -> CreateTenant arrives -> association arrives -> records in status -> Ready. */
export function operatorPhases(
  items: Item[],
  log: CallRecord[],
  at: { applied: Map<string, number>; records: Map<string, number>; ready: Map<string, number> },
): Phases[] {
  const first = new Map<string, number>();
  for (const call of log) {
    const key = `${call.operation} ${call.target}`;
    if (!first.has(key)) first.set(key, call.at);
  }
  const phases: Phases[] = [];
  for (const { name, spec } of items) {
    const applied = at.applied.get(name);
    const tenant = first.get(`CreateTenant ${spec.tenantName}`);
    const associated = first.get(`CreateTenantResourceAssociation ${spec.tenantName}`);
    const records = at.records.get(name);
    const ready = at.ready.get(name);
    if ([applied, tenant, associated, records, ready].some((value) => value === undefined)) continue;
    phases.push({
      'before SES': tenant! - applied!,
      'SES creates': associated! - tenant!,
      'after SES to records': records! - associated!,
      'records to Ready': ready! - records!,
    });
  }
  return phases;
}

/** The floor's round trips grouped into the same phases (its association counts from its own start, as the operator's does). */
export function floorPhases(samples: FloorSample[]): Phases[] {
  return samples.map(({ steps, records, ready }) => {
    const beforeSes = (steps['create + watch'] ?? 0) + (steps['finalizer write'] ?? 0);
    return {
      'before SES': beforeSes,
      'SES creates': steps['SES create x3'] ?? 0,
      'after SES to records': records - beforeSes - (steps['SES create x3'] ?? 0),
      'records to Ready': ready - records,
    };
  });
}

/** "phase p50/p99" for each phase, one line. */
export function phaseSummary(phases: Phases[]): Record<PhaseName, { p50: number; p99: number }> {
  const names: PhaseName[] = ['before SES', 'SES creates', 'after SES to records', 'records to Ready'];
  return Object.fromEntries(
    names.map((phase) => {
      const values = phases.map((p) => p[phase]);
      return [phase, { p50: percentile(values, 50), p99: percentile(values, 99) }];
    }),
  ) as Record<PhaseName, { p50: number; p99: number }>;
}

export function formatPhases(summary: ReturnType<typeof phaseSummary>): string {
  return Object.entries(summary)
    .map(([phase, { p50, p99 }]) => `${phase} ${p50}/${p99}`)
    .join(', ');
}

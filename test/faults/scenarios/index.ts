import type { ScenarioContext, ScenarioResult } from '../workload.ts';
import { apiserverRestarts } from './apiserver-restarts.ts';
import { crashes } from './crashes.ts';
import { dnsFaults } from './dns-faults.ts';
import { drift } from './drift.ts';
import { hostileInputs } from './hostile-inputs.ts';
import { leaderFailover } from './leader-failover.ts';
import { orphans } from './orphans.ts';
import { publication } from './publication.ts';
import { regions } from './regions.ts';
import { sesFaults } from './ses-faults.ts';
import { tenancy } from './tenancy.ts';

export interface Scenario {
  name: string;
  /** Restarts kube-apiserver: needs a stack of its own. */
  ownStack?: boolean;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/**
 * In the order `npm run test:faults` runs them. Scenario 7 (bad input at the API server) is
 * test/e2e/api-validation.test.ts: 53 invalid objects the CRD schema refuses, in every CI run.
 */
export const SCENARIOS: Scenario[] = [
  { name: 'crashes', run: crashes },
  { name: 'apiserver-restarts', ownStack: true, run: apiserverRestarts },
  { name: 'ses-faults', run: sesFaults },
  { name: 'dns-faults', run: dnsFaults },
  { name: 'leader-failover', run: leaderFailover },
  { name: 'hostile-inputs', run: hostileInputs },
  { name: 'orphans', run: orphans },
  { name: 'tenancy', run: tenancy },
  { name: 'drift', run: drift },
  { name: 'publication', run: publication },
  { name: 'regions', run: regions },
];

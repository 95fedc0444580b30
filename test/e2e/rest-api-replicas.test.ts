import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastLeaderElectionFlags } from '../../harness/stack/local-operator.ts';
import { setupNameFor } from '../../src/rest-api/naming.ts';
import { OPERATOR_NAMESPACE } from '../support/deploy.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { startRestApiFixture, WORKSPACE, type RestApiFixture } from '../support/rest-api.ts';

/**
 * Two replicas with leader election, as deploy/ runs them behind one Service: the replica that
 * does not lead serves the API from its own cache, and its live checks are run by the leader.
 */
const c = cluster();
const id = uniqueSuffix();
// The shipped Lease Role covers the Lease named ses-operator in the ses-operator namespace only.
const lease = 'ses-operator';
const base = `/v1/${WORKSPACE}/channels/ses-setup`;
let replicas: RestApiFixture[] = [];
const setupName = setupNameFor(`Replica_${id}`);

async function leads(replica: RestApiFixture): Promise<boolean> {
  const text = await (await fetch(`${replica.operator.metricsUrl}/metrics`)).text();
  return new RegExp(`^leader_election_master_status\\{name="${lease}"\\} 1$`, 'm').test(text);
}

describe('REST API on a replica that does not lead', () => {
  beforeAll(async () => {
    await c.ensureNamespace(OPERATOR_NAMESPACE);
    const flags = fastLeaderElectionFlags(OPERATOR_NAMESPACE, lease);
    replicas = [await startRestApiFixture('rest-api-r1', flags), await startRestApiFixture('rest-api-r2', flags)];
  });

  afterAll(async () => {
    // Torn down while the replicas still run, should the test have stopped half-way.
    await c.deleteSetup(setupName);
    await waitUntil('the setup torn down', async () => (await c.getSetup(setupName)) === undefined, { timeoutMs: 30_000 }).catch(() => {});
    for (const replica of replicas) await replica.stop();
    await c.kubectl(['delete', 'lease', lease, '-n', OPERATOR_NAMESPACE, '--ignore-not-found']);
  });

  it('creates and refreshes through the follower: the leader does the work, the follower answers fresh', async () => {
    const leader = await waitUntil('one replica to lead', async () => {
      const states = await Promise.all(replicas.map(leads));
      return states.filter(Boolean).length === 1 ? replicas[states.indexOf(true)] : undefined;
    });
    const follower = replicas.find((r) => r !== leader)!;
    expect(await leads(follower)).toBe(false);

    const created = await waitUntil('201 through the follower', async () => {
      const response = await follower.call('POST', base, { as: 'create', body: { tenant_name: `Replica_${id}`, domain_identity: `replica-${id}.test` } });
      return response.status === 201 ? response.body : undefined;
    });
    const refreshed = await follower.call('GET', `${base}/${created.id}`);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ id: created.id, refreshed: true, notice: null });
    expect(Date.parse(refreshed.body.dns_checked_at)).toBeGreaterThanOrEqual(Date.parse(created.dns_checked_at));
    const deleted = await follower.call('DELETE', `${base}/${created.id}`, { as: 'delete' });
    expect(deleted.status).toBe(204);
    await waitUntil('torn down by the leader', async () => (await c.getSetup(created.name)) === undefined, { timeoutMs: 30_000 });
  });
});

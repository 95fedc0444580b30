import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, VERSION } from '../../src/api/group.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { responseChecker } from '../support/openapi-check.ts';
import { startRestApiFixture, WORKSPACE, type RestApiFixture } from '../support/rest-api.ts';

/**
 * The list across pages, and what the API answers when its bounded waits run out. The 45 setups
 * are created straight through the API server (the list reads the operator's cache, whatever
 * created them); the operator runs with a 1 ms refresh timeout so every wait runs out.
 */
const c = cluster();
const id = uniqueSuffix();
const LIST = '/v1/{workspace_id}/channels/ses-setup';
const base = `/v1/${WORKSPACE}/channels/ses-setup`;
const label = `rest-api-pagination=${id}`;
let api: RestApiFixture;
let check: ReturnType<typeof responseChecker>;
/** SesSetups that other test files left in the shared cluster (0 when this file runs alone). */
let others = 0;

describe('REST API: pagination and bounded waits', () => {
  beforeAll(async () => {
    await c.installCrds();
    api = await startRestApiFixture('rest-api-pages', ['--api-refresh-timeout', '1ms']);
    check = responseChecker((await api.call('GET', '/openapi.json', { as: null })).body);
    // Setups other files left behind stay listed (the API lists the whole platform); those being torn
    // down go first (this operator finishes them), so the ones left are a fixed offset before ours.
    await waitUntil(
      'no SesSetup being deleted',
      async () => !(await c.kubectl(['get', 'sessetups', '-o', 'jsonpath={.items[*].metadata.deletionTimestamp}'])).stdout.trim(),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    others = (await c.kubectl(['get', 'sessetups', '-o', 'name'])).stdout.split('\n').filter(Boolean).length;
    const items = Array.from({ length: 45 }, (_, i) => ({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'SesSetup',
      metadata: { name: `page-${id}-${String(i).padStart(2, '0')}`, labels: { 'rest-api-pagination': id } },
      spec: { tenantName: `page_${id}_${i}`, domainIdentity: `mail${i}.pages-${id}.test` },
    }));
    await c.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  });

  afterAll(async () => {
    await c.kubectl(['delete', 'sessetups', '-l', label, '--wait=false']);
    await waitUntil('the setups torn down', async () => (await c.kubectl(['get', 'sessetups', '-l', label, '-o', 'name'])).stdout.trim() === '', {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    await api?.stop();
  });

  it('pages through 45 setups 20 at a time: 3 pages, total 45 (plus any left by other files, listed before them), has_more false and no token on the last, in a stable order', async () => {
    await waitUntil('all 45 in the API', async () => (await api.call('GET', `${base}?limit=1`)).body.total === others + 45);
    const pages: { items: { id: string; name: string; created_at: string }[]; has_more: boolean; continuation_token: number | null; total: number }[] = [];
    let token: number | null = others;
    while (token !== null) {
      const response = await api.call('GET', `${base}?limit=20&continuation_token=${token}`);
      expect(response.status).toBe(200);
      check(LIST, 'GET', response);
      pages.push(response.body);
      token = response.body.continuation_token;
      expect(pages.length).toBeLessThanOrEqual(3);
    }
    const total = others + 45;
    expect(pages.map((p) => [p.items.length, p.has_more, p.continuation_token, p.total])).toEqual([
      [20, true, others + 20, total],
      [20, true, others + 40, total],
      [5, false, null, total],
    ]);
    const names = pages.flatMap((p) => p.items.map((i) => i.name));
    // Creation time, then name: the order in which they were created, the same on every call.
    const { stdout } = await c.kubectl(['get', 'sessetups', '-l', label, '-o', 'json']);
    const expected = (JSON.parse(stdout) as { items: { metadata: { name: string; creationTimestamp: string } }[] }).items
      .map((s) => s.metadata)
      .sort((a, b) => a.creationTimestamp.localeCompare(b.creationTimestamp) || a.name.localeCompare(b.name))
      .map((m) => m.name);
    expect(expected).toHaveLength(45);
    expect(names).toEqual(expected);
    const again = await api.call('GET', `${base}?limit=20&continuation_token=${others + 20}`);
    expect(again.body.items.map((i: { name: string }) => i.name)).toEqual(names.slice(20, 40));
  });

  it('defaults to 10 items from the start; a token past the end gives an empty last page', async () => {
    const first = await api.call('GET', base);
    expect(first.body.items).toHaveLength(10);
    expect(first.body).toMatchObject({ has_more: true, continuation_token: 10, total: others + 45 });
    const past = await api.call('GET', `${base}?continuation_token=${others + 100}`);
    expect(past.status).toBe(200);
    expect(past.body).toEqual({ items: [], has_more: false, continuation_token: null, total: others + 45 });
  });

  it('answers a create whose records are not in status within the wait with 202, the setup and a notice', async () => {
    const response = await api.call('POST', base, { as: 'create', body: { tenant_name: `Created_${id}`, domain_identity: `created-${id}.test` } });
    expect(response.status, response.text).toBe(202);
    check(LIST, 'POST', response);
    expect(response.body).toMatchObject({ tenant_name: `Created_${id}`, dns_records: [], refreshed: false });
    expect(response.body.notice).toMatch(/created; the DNS records were not in status within 0.001s/);
    await c.kubectl(['label', 'sessetup', response.body.name, `rest-api-pagination=${id}`]);
  });

  it('answers a GET whose live check does not finish within the wait with the last result, saying so', async () => {
    const [setup] = (await api.call('GET', `${base}?limit=1&continuation_token=${others}`)).body.items;
    const response = await api.call('GET', `${base}/${setup.id}`);
    expect(response.status).toBe(200);
    check(`${LIST}/{setup_id}`, 'GET', response);
    expect(response.body.refreshed).toBe(false);
    expect(response.body.notice).toMatch(/the live check did not finish within 0.001s; this is the last known result/);
  });
});

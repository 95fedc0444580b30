import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../src/api/group.ts';
import { ensureGoBinary } from '../../harness/stack/go-binaries.ts';
import { cluster, condition, uniqueSuffix } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';
import { writeServiceAccountKubeconfig } from '../../harness/stack/service-account.ts';
import { deleteNamespaceNow, findOne, helmTemplate, OPERATOR_NAMESPACE, podOf, type Manifest } from '../support/deploy.ts';
import { startOperator, type OperatorProcess } from '../support/operator.ts';
import { apiClient, selfSignedCertificate } from '../support/rest-api.ts';

/**
 * The chart's RBAC is enough, and no more: its ServiceAccount, ClusterRole(Binding) and Lease
 * Role(Binding) are created for real, and the real operator runs with the Deployment's own args
 * and env under that ServiceAccount's token (not the admin identity): it elects itself on the Lease,
 * reconciles, records events, blocks deletion on referrers (an EmailUseCase and a ConfigMap
 * referrer kind) and removes its finalizer, without one request refused. The API server's RBAC
 * authorizer then confirms that what it does not need is refused.
 * (The kustomize base has the same rules, minus the referrer: deploy-manifests.test.ts compares them.)
 */
const c = cluster();
const id = uniqueSuffix();
const SA = `system:serviceaccount:${OPERATOR_NAMESPACE}:ses-operator`;
const REFERRER = { group: '', version: 'v1', resource: 'configmaps', fieldPath: 'data.sesSetup' };
const ns = `deploy-rbac-${id}`;
const setupName = `rbac-${id}`;
const cleanup: string[][] = [];
let operator: OperatorProcess | undefined;
let dir: string;
let tls: Awaited<ReturnType<typeof selfSignedCertificate>>;

async function exists(args: string[]): Promise<boolean> {
  return c.kubectl(['get', ...args]).then(
    () => true,
    () => false,
  );
}

async function applyForReal(objects: Manifest[]): Promise<void> {
  for (const object of objects) {
    const ref = [object.kind.toLowerCase(), object.metadata.name, ...(object.metadata.namespace ? ['-n', object.metadata.namespace] : [])];
    if (!(await exists(ref))) cleanup.push(ref);
  }
  await c.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

async function canI(verb: string, resource: string, ...rest: string[]): Promise<boolean> {
  const result = await c
    .kubectl(['auth', 'can-i', verb, resource, '--as', SA, ...rest])
    .catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return result.stdout.trim() === 'yes';
}

/**
 * A SubjectAccessReview for a resource the API server may not serve (kubectl auth can-i needs the
 * kind in discovery; external-dns's DNSEndpoint CRD is not installed in every test cluster).
 */
async function mayDo(verb: string, group: string, resource: string, namespace: string, subresource = ''): Promise<boolean> {
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: SA,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${OPERATOR_NAMESPACE}`],
      resourceAttributes: { verb, group, resource, namespace, subresource },
    },
  };
  const { stdout } = await c.kubectl(['create', '-f', '-', '-o', 'json'], JSON.stringify(review));
  return (JSON.parse(stdout) as { status?: { allowed?: boolean } }).status?.allowed === true;
}

/** A kubeconfig for the same API server that authenticates with the ServiceAccount's token only. */
function serviceAccountKubeconfig(): Promise<string> {
  return writeServiceAccountKubeconfig(
    c.stack.kubeconfig,
    { namespace: OPERATOR_NAMESPACE, name: 'ses-operator' },
    join(dir, 'service-account.kubeconfig'),
    '1h',
  );
}

describe("deploy/: the operator runs with exactly the chart's RBAC", () => {
  beforeAll(async () => {
    await ensureGoBinary('helm', (line) => process.stderr.write(`[deploy] ${line}\n`));
    dir = await mkdtemp(join(tmpdir(), 'deploy-rbac-'));
    await c.installCrds();
    if (!(await exists(['namespace', OPERATOR_NAMESPACE]))) cleanup.push(['namespace', OPERATOR_NAMESPACE]);
    await c.ensureNamespace(OPERATOR_NAMESPACE);
    await c.ensureNamespace(ns);
    cleanup.push(['namespace', ns]);
    const { objects } = await helmTemplate({ referrers: [REFERRER] });
    await applyForReal(
      objects.filter(
        (o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind) && !/-(view|edit)$/.test(o.metadata.name),
      ),
    );
    // The Deployment's container, as the kubelet would start it (the image's ENTRYPOINT is node dist/cli/main.js).
    const { container } = podOf(findOne(objects, 'Deployment'));
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value ?? OPERATOR_NAMESPACE])); // POD_NAMESPACE: the fieldRef's value
    tls = await selfSignedCertificate(dir);
    operator = await startOperator(
      [
        ...container.args.slice(1),
        '--kubeconfig',
        await serviceAccountKubeconfig(),
        // Loopback ephemeral ports instead of :8080/:8081/:8443, which other processes here may hold.
        '--metrics-bind-address',
        '127.0.0.1:0',
        '--health-probe-bind-address',
        '127.0.0.1:0',
        // The REST API over TLS with a certificate of this test (the Secret the pods mount does not exist here).
        '--api-bind-address',
        '127.0.0.1:0',
        '--api-tls-cert-file',
        tls.certFile,
        '--api-tls-key-file',
        tls.keyFile,
      ],
      env,
    );
  }, 15 * 60_000);

  afterAll(async () => {
    await operator?.stop();
    // Never leave a SesSetup behind with a finalizer no operator will remove.
    await c.kubectl(['patch', 'sessetup', setupName, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => {});
    await c.deleteSetup(setupName);
    await c.kubectl(['delete', 'lease', 'ses-operator', '-n', OPERATOR_NAMESPACE, '--ignore-not-found']).catch(() => {});
    await c.kubectl(['delete', 'emailusecases,configmaps', '--all', '-n', ns, '--ignore-not-found']).catch(() => {});
    // Namespaces were recorded first, so they go last, once what this file put in them is gone.
    for (const ref of cleanup.reverse()) {
      if (ref[0] === 'namespace') await deleteNamespaceNow(ref[1]!);
      else await c.kubectl(['delete', ...ref, '--ignore-not-found']);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the Lease, serves /readyz, reconciles, records events and removes its finalizer, with no request refused', async () => {
    const holder = await waitUntil('the Lease to be held', async () => {
      const { stdout } = await c.kubectl(['get', 'lease', 'ses-operator', '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.spec.holderIdentity}']);
      return stdout || undefined;
    });
    expect(holder).not.toBe('');
    expect((await fetch(`${operator!.probesUrl}/readyz`)).status).toBe(200);

    await c.createSetup(setupName, { tenantName: `rbac_${id}`, domainIdentity: `mail.rbac-${id}.test` });
    await c.createUseCase(ns, 'invoices', { sesSetupRef: { name: setupName }, fromAddress: `invoices@mail.rbac-${id}.test` });
    await c.createConfigMap(ns, 'mailer', { sesSetup: setupName });
    const setup = await waitUntil('finalizer and status', async () => {
      const s = await c.getSetup(setupName);
      return s?.metadata.finalizers?.includes(FINALIZER) && condition(s, 'TenantReady')?.status === 'True' && s.status?.usedByCount === 2 ? s : undefined;
    });
    expect(setup.status?.observedGeneration).toBe(setup.metadata.generation);
    await waitUntil('the EmailUseCase status', async () => condition(await c.getUseCase(ns, 'invoices'), 'Ready'));
    const events = async () =>
      (await c.kubectl(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${setupName}`, '-o', 'jsonpath={.items[*].reason}'])).stdout;
    await waitUntil('a TenantReady event', async () => (await events()).includes('TenantReady'));

    // Deletion waits for both referrers (the ConfigMap kind is watched through the chart's referrer rule).
    await c.deleteSetup(setupName);
    const blocked = await waitUntil('DeletionBlocked', async () => condition(await c.getSetup(setupName), 'DeletionBlocked'));
    expect(blocked.message).toMatch(/EmailUseCase/);
    expect(blocked.message).toMatch(/mailer/);
    await waitUntil('a DeletionBlocked event', async () => (await events()).includes('DeletionBlocked'));
    await c.deleteUseCase(ns, 'invoices');
    await c.deleteConfigMap(ns, 'mailer');
    await waitUntil('the SesSetup to be gone', async () => (await c.getSetup(setupName)) === undefined, { timeoutMs: 30_000 });

    // The REST API's TokenReview and SubjectAccessReview, with the operator's own token as a caller that may list.
    const api = apiClient(String((await operator!.waitForLog('starting')).api), tls.ca);
    const token = (await c.kubectl(['create', 'token', 'ses-operator', '-n', OPERATOR_NAMESPACE, '--duration=10m'])).stdout.trim();
    const list = await api('GET', '/v1/3fa85f64-5717-4562-b3fc-2c963f66afa6/channels/ses-setup', { token });
    expect(list.status, list.text).toBe(200);

    const log = await readFile(operator!.logFile, 'utf8');
    // A refusal's Status message says "forbidden" (a bare 403 would also match a duration in ms).
    expect(log).not.toMatch(/forbidden/i);
  });

  it("is refused what it does not need (the API server's RBAC authorizer)", async () => {
    const other = ['-n', ns];
    const granted = {
      'list sessetups': await canI('list', 'sessetups.ses.channels.dev'),
      'patch sessetups/status': await canI('patch', 'sessetups.ses.channels.dev', '--subresource=status'),
      'update sessetups/finalizers': await canI('update', 'sessetups.ses.channels.dev', '--subresource=finalizers'),
      'watch emailusecases': await canI('watch', 'emailusecases.ses.channels.dev', ...other),
      'create events anywhere': await canI('create', 'events', ...other),
      'watch configmaps (referrer)': await canI('watch', 'configmaps', ...other),
      'watch namespaces (allowedNamespaces)': await canI('watch', 'namespaces'),
      'update its Lease': await canI('update', 'leases.coordination.k8s.io/ses-operator', '-n', OPERATOR_NAMESPACE),
      ...Object.fromEntries(
        await Promise.all(
          ['list', 'watch', 'create', 'update', 'delete'].map(async (verb) => [
            `${verb} dnsendpoints`,
            await mayDo(verb, 'externaldns.k8s.io', 'dnsendpoints', OPERATOR_NAMESPACE),
          ]),
        ),
      ),
      // The REST API: create and delete on behalf of authorized callers, and the reviews that authorize them.
      'create sessetups (REST API)': await canI('create', 'sessetups.ses.channels.dev'),
      'delete sessetups (REST API)': await canI('delete', 'sessetups.ses.channels.dev'),
      'create tokenreviews': await canI('create', 'tokenreviews.authentication.k8s.io'),
      'create subjectaccessreviews': await canI('create', 'subjectaccessreviews.authorization.k8s.io'),
      "create and update use cases' ConfigMaps": (await canI('create', 'configmaps', ...other)) && (await canI('update', 'configmaps', ...other)),
    };
    expect(Object.entries(granted).filter(([, yes]) => !yes)).toEqual([]);
    const refused = {
      'update sessetups': await canI('update', 'sessetups.ses.channels.dev'),
      'patch emailusecases': await canI('patch', 'emailusecases.ses.channels.dev', ...other),
      'delete events': await canI('delete', 'events', ...other),
      'patch configmaps': await canI('patch', 'configmaps', ...other),
      'delete configmaps': await canI('delete', 'configmaps', ...other),
      'get secrets': await canI('get', 'secrets', ...other),
      'impersonate users': await canI('impersonate', 'users'),
      'create localsubjectaccessreviews': await canI('create', 'localsubjectaccessreviews.authorization.k8s.io', ...other),
      'patch namespaces': await canI('patch', 'namespaces'),
      'delete namespaces': await canI('delete', 'namespaces'),
      'update another Lease': await canI('update', 'leases.coordination.k8s.io/other', '-n', OPERATOR_NAMESPACE),
      'create a Lease elsewhere': await canI('create', 'leases.coordination.k8s.io', ...other),
      'delete its Lease': await canI('delete', 'leases.coordination.k8s.io/ses-operator', '-n', OPERATOR_NAMESPACE),
      'patch dnsendpoints': await mayDo('patch', 'externaldns.k8s.io', 'dnsendpoints', OPERATOR_NAMESPACE),
      'update dnsendpoints/status': await mayDo('update', 'externaldns.k8s.io', 'dnsendpoints', OPERATOR_NAMESPACE, 'status'),
    };
    expect(Object.entries(refused).filter(([, yes]) => yes)).toEqual([]);
  });
});

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSettings, SETTINGS, type SettingName } from '../../src/cli/settings.ts';
import { parseReferrerKind } from '../../src/controllers/referrers.ts';
import { ensureGoBinary, PROJECT_ROOT } from '../../harness/stack/go-binaries.ts';
import { deploymentNodeOptions } from '../../harness/stack/deployment-node-options.ts';
import { staleCrdCopies } from '../../deploy/sync-crds.ts';
import { cluster, uniqueSuffix } from '../support/cluster.ts';
import {
  CHART_DIR,
  deleteNamespaceNow,
  DEPLOY_DIR,
  findOne,
  flagsOf,
  helm,
  helmTemplate,
  KUSTOMIZE_BASE,
  KUSTOMIZE_EXAMPLE,
  kustomize,
  objectIds,
  OPERATOR_NAMESPACE,
  parseManifests,
  podOf,
  type Manifest,
  type PolicyRule,
} from '../support/deploy.ts';

/**
 * deploy/ against the real API server (kube-apiserver 1.34, RBAC and PodSecurity admission on):
 * server-side dry-runs of kustomize and helm output, least-privilege RBAC, aggregation to the
 * built-in roles, and agreement between the two packagings.
 */
const c = cluster();
const id = uniqueSuffix();
/** What this file really created in the shared cluster, deleted in afterAll (pre-existing things are left alone). */
const created: string[][] = [];

/** The API calls the operator makes (src/controllers, src/runtime): exactly these, per resource. */
const OPERATOR_RULES = {
  // create, delete: the REST API's, after a SubjectAccessReview of the caller.
  'ses.channels.dev/sessetups': ['create', 'delete', 'get', 'list', 'patch', 'watch'],
  'ses.channels.dev/sessetups/status': ['get', 'patch'],
  'ses.channels.dev/sessetups/finalizers': ['update'],
  'ses.channels.dev/emailusecases': ['get', 'list', 'watch'],
  'ses.channels.dev/emailusecases/status': ['get', 'patch'],
  '/events': ['create', 'patch'],
  'externaldns.k8s.io/dnsendpoints': ['create', 'delete', 'list', 'update', 'watch'],
  '/namespaces': ['get', 'list', 'watch'],
  // Each EmailUseCase's ConfigMap.
  '/configmaps': ['create', 'get', 'update'],
  // The REST API's authentication and authorization of its callers.
  'authentication.k8s.io/tokenreviews': ['create'],
  'authorization.k8s.io/subjectaccessreviews': ['create'],
};
/** The REST API's permissions as ClusterRoles: Channel.view, Channel.create, Channel.delete. */
const CHANNEL_ROLES = {
  'ses-operator-channel-viewer': { 'ses.channels.dev/sessetups': ['get', 'list'] },
  'ses-operator-channel-creator': { 'ses.channels.dev/sessetups': ['create'] },
  'ses-operator-channel-deleter': { 'ses.channels.dev/sessetups': ['delete'] },
};
const BASE_IDS = [
  'namespace/ses-operator',
  'customresourcedefinition.apiextensions.k8s.io/sessetups.ses.channels.dev',
  'customresourcedefinition.apiextensions.k8s.io/emailusecases.ses.channels.dev',
  'serviceaccount/ses-operator',
  'clusterrole.rbac.authorization.k8s.io/ses-operator',
  'clusterrolebinding.rbac.authorization.k8s.io/ses-operator',
  'role.rbac.authorization.k8s.io/ses-operator-leader-election',
  'rolebinding.rbac.authorization.k8s.io/ses-operator-leader-election',
  'clusterrole.rbac.authorization.k8s.io/ses-operator-view',
  'clusterrole.rbac.authorization.k8s.io/ses-operator-edit',
  'deployment.apps/ses-operator',
  'poddisruptionbudget.policy/ses-operator',
  'service/ses-operator-metrics',
  'networkpolicy.networking.k8s.io/ses-operator',
  'service/ses-operator-api',
  'clusterrole.rbac.authorization.k8s.io/ses-operator-channel-viewer',
  'clusterrole.rbac.authorization.k8s.io/ses-operator-channel-creator',
  'clusterrole.rbac.authorization.k8s.io/ses-operator-channel-deleter',
  'validatingadmissionpolicy.admissionregistration.k8s.io/ses-operator-sessetup-in-use',
  'validatingadmissionpolicybinding.admissionregistration.k8s.io/ses-operator-sessetup-in-use',
];
const REFERRERS = [
  { group: 'apps.example.com', version: 'v1', resource: 'mailers', fieldPath: 'spec.sesSetupName' },
  { group: '', version: 'v1', resource: 'configmaps', fieldPath: 'data.sesSetup' },
];

/** A stand-in for the Prometheus Operator's ServiceMonitor CRD: its real group/kind and the fields the chart sets, typed. */
const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind: 'ServiceMonitor', listKind: 'ServiceMonitorList', plural: 'servicemonitors', singular: 'servicemonitor' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['selector', 'endpoints'],
                'x-kubernetes-preserve-unknown-fields': true,
                properties: {
                  selector: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  endpoints: {
                    type: 'array',
                    items: {
                      type: 'object',
                      'x-kubernetes-preserve-unknown-fields': true,
                      properties: {
                        port: { type: 'string' },
                        path: { type: 'string' },
                        // The Prometheus Operator's duration pattern.
                        interval: { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' },
                        scrapeTimeout: {
                          type: 'string',
                          pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$',
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

async function exists(args: string[]): Promise<boolean> {
  return c.kubectl(['get', ...args]).then(
    () => true,
    () => false,
  );
}

/** Creates for real, remembering it for afterAll unless it was already there. */
async function createForReal(resource: string[], objects: unknown): Promise<void> {
  if (!(await exists(resource))) created.push(resource);
  await c.kubectl(['apply', '-f', '-'], JSON.stringify(objects));
}

async function dryRun(text: string): Promise<{ stdout: string; stderr: string }> {
  return c.kubectl(['apply', '--dry-run=server', '-f', '-'], text);
}

/** Rules as "group/resource" -> sorted verbs; fails on a rule that names several groups (none here). */
function ruleMap(rules: PolicyRule[]): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const rule of rules) {
    expect(rule.apiGroups).toHaveLength(1);
    for (const resource of rule.resources ?? []) {
      const key = `${rule.apiGroups![0]}/${resource}${rule.resourceNames ? `@${rule.resourceNames.join(',')}` : ''}`;
      map[key] = [...(map[key] ?? []), ...rule.verbs].sort();
    }
  }
  return map;
}

interface NetworkPolicyPort {
  port: number;
  protocol: string;
}
interface NetworkPolicySpec {
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: string[];
  ingress: { ports: NetworkPolicyPort[]; from?: unknown[] }[];
  egress: { ports: NetworkPolicyPort[]; to?: unknown[] }[];
}

/** Each rule's ports as "port/protocol", sorted, for rules without a destination or source restriction. */
function openPorts(rules: { ports: NetworkPolicyPort[]; to?: unknown[]; from?: unknown[] }[]): string[] {
  return rules
    .filter((rule) => !rule.to && !rule.from)
    .flatMap((rule) => rule.ports.map((p) => `${p.port}/${p.protocol}`))
    .sort();
}

/** A role's rules ([] for an aggregated role whose controller has not filled them). */
const rulesOf = (object: Manifest) => (object.rules ?? []) as PolicyRule[];

/** SubjectAccessReview through kubectl: the API server's own RBAC authorizer answers. */
async function canI(user: string, verb: string, resource: string, namespace?: string): Promise<boolean> {
  const args = ['auth', 'can-i', verb, resource, '--as', user, ...(namespace ? ['-n', namespace] : [])];
  const result = await c.kubectl(args).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return result.stdout.trim() === 'yes';
}

describe('deploy/: manifests against the real API server', () => {
  let base: Manifest[];
  let example: Manifest[];
  let chart: Manifest[];

  beforeAll(async () => {
    // helm is built from the Go module proxy on the first run (minutes), then cached.
    await ensureGoBinary('helm', (line) => process.stderr.write(`[deploy] ${line}\n`));
    await c.installCrds();
    [base, example, { objects: chart }] = await Promise.all([kustomize(KUSTOMIZE_BASE), kustomize(KUSTOMIZE_EXAMPLE), helmTemplate()]);
    // Namespaced objects can only be dry-run into a namespace that exists: create the base's own
    // Namespace object (with its Pod Security labels) for real.
    await createForReal(['namespace', OPERATOR_NAMESPACE], findOne(base, 'Namespace'));
  }, 15 * 60_000);

  afterAll(async () => {
    for (const resource of created.reverse()) {
      if (resource[0] === 'namespace')
        await deleteNamespaceNow(resource[1]!); // only dry-runs went into it
      else await c.kubectl(['delete', ...resource, '--ignore-not-found']);
    }
  });

  it('keeps the CRD copies in kustomize and the chart equal to crds/ (node deploy/sync-crds.ts refreshes them)', async () => {
    expect(await staleCrdCopies()).toEqual([]);
    // ... and the base lists each of them (kustomize takes files by name).
    const kustomization = await readFile(join(KUSTOMIZE_BASE, 'kustomization.yaml'), 'utf8');
    for (const file of (await readdir(join(PROJECT_ROOT, 'crds'))).filter((f) => f.endsWith('.yaml'))) expect(kustomization).toContain(`- crds/${file}\n`);
  });

  it('applies the kustomize base and the example overlay with a server-side dry-run, every object accepted', async () => {
    expect(objectIds(base).sort()).toEqual([...BASE_IDS].sort());
    for (const dir of [KUSTOMIZE_BASE, KUSTOMIZE_EXAMPLE]) {
      const { stdout, stderr } = await c.kubectl(['apply', '-k', dir, '--dry-run=server']);
      for (const object of BASE_IDS)
        expect(stdout).toMatch(new RegExp(`^${object.replace(/\./g, '\\.')} (created|configured|unchanged) \\(server dry run\\)$`, 'm'));
      // The namespace warns on "restricted" violations: the Deployment's pod template raises none.
      expect(stderr).not.toMatch(/PodSecurity/);
    }
  });

  it('sets the example overlay values: image, region, IRSA annotation, --ses-rate-limit', () => {
    const { container } = podOf(findOne(example, 'Deployment'));
    expect(container.image).toBe('registry.example.com/platform/ses-operator:0.1.0');
    expect(container.env.find((e) => e.name === 'AWS_REGION')?.value).toBe('eu-west-1');
    expect(container.args).toContain('--ses-rate-limit=2');
    expect(findOne(example, 'ServiceAccount').metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::\d{12}:role\//);
  });

  it('runs a pod of the Deployment under the enforced "restricted" Pod Security Standard (and a weakened one is refused)', async () => {
    for (const deployment of [findOne(base, 'Deployment'), findOne(chart, 'Deployment')]) {
      const template = (deployment.spec as { template: { metadata: object; spec: { containers: { securityContext: Record<string, unknown> }[] } } }).template;
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, name: `pss-${id}`, namespace: OPERATOR_NAMESPACE }, spec: template.spec };
      await c.kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
      // Control: the namespace really enforces it.
      const weakened = structuredClone(pod);
      weakened.spec.containers[0]!.securityContext.allowPrivilegeEscalation = true;
      await expect(c.kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(weakened))).rejects.toThrow(/violates PodSecurity "restricted/);
    }
  });

  it('gives the operator exactly the API access it uses: no wildcard, no verb more', () => {
    for (const objects of [base, chart]) {
      const clusterRole = findOne(objects, 'ClusterRole', 'ses-operator');
      expect(JSON.stringify(clusterRole.rules)).not.toContain('*');
      expect(ruleMap(rulesOf(clusterRole))).toEqual(OPERATOR_RULES);
      // The Lease: create anywhere in its namespace, read and renew only the one named by --leader-election-id.
      const leaseRole = findOne(objects, 'Role');
      expect(leaseRole.metadata.namespace).toBe(OPERATOR_NAMESPACE);
      expect(ruleMap(rulesOf(leaseRole))).toEqual({
        'coordination.k8s.io/leases': ['create'],
        [`coordination.k8s.io/leases@${SETTINGS['leader-election-id'].default}`]: ['get', 'update'],
      });
      const binding = findOne(objects, 'ClusterRoleBinding');
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'ses-operator', namespace: OPERATOR_NAMESPACE }]);
      expect(findOne(objects, 'RoleBinding').subjects).toEqual(binding.subjects);
    }
  });

  it('ships the REST API: channel roles with exactly the permission verbs, an HTTPS Service, TLS flags, the in-use admission policy', () => {
    for (const objects of [base, chart]) {
      for (const [name, rules] of Object.entries(CHANNEL_ROLES)) {
        const role = findOne(objects, 'ClusterRole', name);
        expect(ruleMap(rulesOf(role))).toEqual(rules);
        // Not aggregated: view/edit already carry these verbs; these are for API clients only.
        expect(Object.keys(role.metadata.labels ?? {}).filter((l) => l.startsWith('rbac.authorization.k8s.io/'))).toEqual([]);
      }
      const service = findOne(objects, 'Service', 'ses-operator-api');
      expect((service.spec as { ports: unknown[] }).ports).toEqual([{ name: 'https-api', port: 443, targetPort: 'https-api', protocol: 'TCP' }]);
      const { container, spec } = podOf(findOne(objects, 'Deployment'));
      expect(flagsOf(container.args).get('api-bind-address')).toEqual([':8443']);
      expect(flagsOf(container.args).get('api-tls-cert-file')).toEqual(['/etc/ses-operator/api-tls/tls.crt']);
      expect(spec.volumes).toContainEqual({ name: 'api-tls', secret: { secretName: 'ses-operator-api-tls' } });
      const policy = findOne(objects, 'ValidatingAdmissionPolicy');
      expect(findOne(objects, 'ValidatingAdmissionPolicyBinding').spec).toEqual({ policyName: policy.metadata.name, validationActions: ['Deny'] });
    }
    expect(findOne(chart, 'ValidatingAdmissionPolicy').spec).toEqual(findOne(base, 'ValidatingAdmissionPolicy').spec);
  });

  it('helm: api.enabled=false and admissionPolicy.enabled=false leave the API, its RBAC and the policy out', async () => {
    const { text, objects } = await helmTemplate({ api: { enabled: false }, admissionPolicy: { enabled: false } });
    const rules = ruleMap(rulesOf(findOne(objects, 'ClusterRole', 'ses-operator')));
    const { 'authentication.k8s.io/tokenreviews': _t, 'authorization.k8s.io/subjectaccessreviews': _s, ...withoutApi } = OPERATOR_RULES;
    expect(rules).toEqual({ ...withoutApi, 'ses.channels.dev/sessetups': ['get', 'list', 'patch', 'watch'] });
    expect(objects.filter((o) => /-api$|-channel-/.test(o.metadata.name) || o.kind.includes('Admission'))).toEqual([]);
    expect(flagsOf(podOf(findOne(objects, 'Deployment')).container.args).has('api-bind-address')).toBe(false);
    await dryRun(text);
  });

  it('renders the same RBAC, security contexts, probes and resources from kustomize and helm', () => {
    for (const name of ['ses-operator', 'ses-operator-view', 'ses-operator-edit', ...Object.keys(CHANNEL_ROLES)]) {
      expect(findOne(chart, 'ClusterRole', name).rules).toEqual(findOne(base, 'ClusterRole', name).rules);
    }
    expect(findOne(chart, 'Role').rules).toEqual(findOne(base, 'Role').rules);
    const [k, h] = [podOf(findOne(base, 'Deployment')), podOf(findOne(chart, 'Deployment'))];
    expect(h.spec.securityContext).toEqual(k.spec.securityContext);
    for (const field of ['securityContext', 'livenessProbe', 'readinessProbe', 'resources', 'ports', 'volumeMounts'])
      expect(h.container[field]).toEqual(k.container[field]);
    expect(h.spec.volumes).toEqual(k.spec.volumes);
    expect(findOne(chart, 'Deployment').spec).toMatchObject({ replicas: 2 });
    expect(findOne(chart, 'PodDisruptionBudget').spec).toMatchObject({ minAvailable: 1 });
    expect(k.container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('passes only flags and environment the operator accepts (its own settings parser), with leader election on', async () => {
    const { objects: withValues } = await helmTemplate({ referrers: REFERRERS, dnsServers: ['10.0.0.10:53'], sesRateLimit: 0.5, logLevel: 'debug' });
    for (const objects of [base, example, chart, withValues]) {
      const { container } = podOf(findOne(objects, 'Deployment'));
      expect(container.args[0]).toBe('run');
      const flags: Partial<Record<SettingName, string | string[]>> = {};
      for (const [name, values] of flagsOf(container.args)) {
        expect(Object.keys(SETTINGS)).toContain(name);
        flags[name as SettingName] = name === 'referrer' ? values : values.at(-1) === '' ? 'true' : values.at(-1)!;
      }
      const { NODE_OPTIONS: nodeOptions, ...env } = Object.fromEntries(container.env.map((e) => [e.name, e.value ?? OPERATOR_NAMESPACE])); // POD_NAMESPACE: the fieldRef's value
      // Node's own heap flags (the benchmark runs the operator with the same), beside the operator's settings.
      expect(nodeOptions?.split(/\s+/)).toEqual(deploymentNodeOptions());
      expect(Object.keys(env).sort()).toEqual([SETTINGS['leader-election-namespace'].env, SETTINGS.region.env].sort());
      const settings = resolveSettings(flags, env);
      expect(settings).toMatchObject({
        leaderElect: true,
        leaderElectionNamespace: OPERATOR_NAMESPACE,
        metricsBindAddress: ':8080',
        healthProbeBindAddress: ':8081',
      });
    }
    const referrerArgs = flagsOf(podOf(findOne(withValues, 'Deployment')).container.args).get('referrer')!;
    expect(referrerArgs.map(parseReferrerKind)).toEqual(REFERRERS);
  });

  it('limits the operator pods to API server, SES and DNS egress and metrics/probe/REST API ingress (kustomize and helm alike)', () => {
    for (const objects of [base, chart]) {
      const policy = findOne(objects, 'NetworkPolicy').spec as NetworkPolicySpec;
      const { container } = podOf(findOne(objects, 'Deployment'));
      const podLabels = (findOne(objects, 'Deployment').spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      // It selects the operator's pods (and nothing that lacks their labels).
      expect(podLabels).toMatchObject(policy.podSelector.matchLabels);
      expect(policy.podSelector.matchLabels['app.kubernetes.io/component']).toBe('controller');
      expect(policy.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
      // Ingress: exactly the container's ports (metrics, probes, the REST API), from anywhere by default.
      const containerPorts = (container.ports as { containerPort: number; protocol: string }[]).map((p) => `${p.containerPort}/${p.protocol}`).sort();
      expect(openPorts(policy.ingress)).toEqual(containerPorts);
      expect(containerPorts).toEqual(['8080/TCP', '8081/TCP', '8443/TCP']);
      // Egress: DNS over UDP and TCP, HTTPS (SES, STS, API server on 443), the API server on 6443;
      // and port 80 only to the EKS Pod Identity agent's link-local addresses.
      expect(openPorts(policy.egress)).toEqual(['443/TCP', '53/TCP', '53/UDP', '6443/TCP']);
      const restricted = policy.egress.filter((rule) => rule.to);
      expect(restricted).toEqual([
        { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }, { ipBlock: { cidr: 'fd00:ec2::23/128' } }], ports: [{ port: 80, protocol: 'TCP' }] },
      ]);
    }
    const [k, h] = [findOne(base, 'NetworkPolicy').spec as NetworkPolicySpec, findOne(chart, 'NetworkPolicy').spec as NetworkPolicySpec];
    expect(h.ingress).toEqual(k.ingress);
    expect(h.egress).toEqual(k.egress);
  });

  it('helm: networkPolicy.enabled=false leaves the NetworkPolicy out; metricsFrom and extra rules render and pass a dry-run', async () => {
    const off = await helmTemplate({ networkPolicy: { enabled: false } });
    expect(off.objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
    expect(off.objects.length).toBe(chart.length - 1);
    await dryRun(off.text);
    await helm(['lint', '--strict', CHART_DIR, '--set', 'networkPolicy.enabled=false']);

    const monitoring = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];
    const proxy = { to: [{ ipBlock: { cidr: '10.1.2.3/32' } }], ports: [{ port: 3128, protocol: 'TCP' }] };
    const webhook = { from: [{ podSelector: {} }], ports: [{ port: 9443, protocol: 'TCP' }] };
    const custom = await helmTemplate({
      networkPolicy: { enabled: true, apiServerPorts: [443, 8443], metricsFrom: monitoring, extraEgress: [proxy], extraIngress: [webhook] },
    });
    const policy = findOne(custom.objects, 'NetworkPolicy').spec as NetworkPolicySpec;
    expect(policy.ingress).toContainEqual({ ports: [{ port: 8080, protocol: 'TCP' }], from: monitoring });
    expect(policy.ingress).toContainEqual(webhook);
    expect(policy.egress).toContainEqual(proxy);
    expect(openPorts(policy.egress)).toEqual(['443/TCP', '53/TCP', '53/UDP', '8443/TCP']);
    const { stdout } = await dryRun(custom.text);
    expect(stdout).toMatch(/^networkpolicy\.networking\.k8s\.io\/ses-operator (created|configured|unchanged) \(server dry run\)$/m);
  });

  it('helm: default values pass a server-side dry-run and helm lint --strict', async () => {
    const { text, objects } = await helmTemplate();
    expect(objectIds(objects).sort()).toEqual(BASE_IDS.filter((o) => !o.startsWith('namespace/')).sort());
    const { stdout } = await dryRun(text);
    expect(stdout.trim().split('\n')).toHaveLength(objects.length);
    await helm(['lint', '--strict', CHART_DIR]);
  });

  it('helm: CRDs come from templates, equal to crds/, kept on uninstall; crds.install=false leaves them out', async () => {
    for (const file of ['sessetups.ses.channels.dev.yaml', 'emailusecases.ses.channels.dev.yaml']) {
      const [source] = parseManifests(await readFile(join(PROJECT_ROOT, 'crds', file), 'utf8'));
      const rendered = findOne(chart, 'CustomResourceDefinition', source!.metadata.name);
      expect(rendered.spec).toEqual(source!.spec);
      expect(rendered.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    }
    const { text, objects } = await helmTemplate({ crds: { install: false } });
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
    expect(objects.length).toBe(chart.length - 2);
    await dryRun(text);
    await helm(['lint', '--strict', CHART_DIR, '--set', 'crds.install=false']);
  });

  it('helm: referrers become --referrer flags and get/list/watch rules, and pass a dry-run', async () => {
    const { text, objects } = await helmTemplate({ referrers: REFERRERS });
    const rules = ruleMap(rulesOf(findOne(objects, 'ClusterRole', 'ses-operator')));
    expect(rules).toEqual({
      ...OPERATOR_RULES,
      'apps.example.com/mailers': ['get', 'list', 'watch'],
      '/configmaps': [...OPERATOR_RULES['/configmaps'], 'get', 'list', 'watch'].sort(),
    });
    await dryRun(text);
    await helm(['lint', '--strict', CHART_DIR, '--set-json', `referrers=${JSON.stringify(REFERRERS)}`]);
  });

  it('helm: serviceMonitor.enabled renders a ServiceMonitor that selects the metrics Service, accepted by a dry-run', async () => {
    // Not the Prometheus Operator's CRD (not available here) but one with its group, kind and the
    // chart's fields typed, so the API server validates what the chart renders.
    await createForReal(['crd', SERVICE_MONITOR_CRD.metadata.name], SERVICE_MONITOR_CRD);
    await c.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${SERVICE_MONITOR_CRD.metadata.name}`]);
    expect(chart.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    const { text, objects } = await helmTemplate({ metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' } } } });
    const monitor = findOne(objects, 'ServiceMonitor');
    const service = findOne(objects, 'Service', 'ses-operator-metrics');
    const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    expect(service.metadata.labels).toMatchObject(spec.selector.matchLabels);
    expect((service.spec as { ports: { name: string }[] }).ports.map((p) => p.name)).toContain(spec.endpoints[0]!.port);
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
    const { stdout } = await dryRun(text);
    expect(stdout).toMatch(/^servicemonitor\.monitoring\.coreos\.com\/ses-operator created \(server dry run\)$/m);
    await helm(['lint', '--strict', CHART_DIR, '--set', 'metrics.serviceMonitor.enabled=true']);
  });

  it('helm: refuses several replicas without leader election, and renders no PodDisruptionBudget for one replica', async () => {
    await expect(helmTemplate({ replicaCount: 2, leaderElection: { enabled: false } })).rejects.toThrow(/replicaCount > 1 needs leaderElection.enabled/);
    const { objects } = await helmTemplate({ replicaCount: 1, leaderElection: { enabled: false } });
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget' || o.kind === 'Role')).toEqual([]);
    expect(podOf(findOne(objects, 'Deployment')).container.args).not.toContain('--leader-elect');
  });

  it('aggregates ses-operator-view into view and ses-operator-edit into edit and admin (selection by the API server, decisions by its RBAC authorizer)', async () => {
    // Really create the two roles. The clusterrole-aggregation controller (kube-controller-manager)
    // does not run here, so this test does its one step: select ClusterRoles with the built-in
    // roles' own aggregationRule (the API server evaluates the selectors) and union their rules,
    // into private copies (the shared cluster's view/edit stay untouched).
    for (const name of ['ses-operator-view', 'ses-operator-edit']) await createForReal(['clusterrole', name], findOne(base, 'ClusterRole', name));
    const users: Record<string, string> = {};
    for (const builtin of ['view', 'edit', 'admin']) {
      const { stdout } = await c.kubectl(['get', 'clusterrole', builtin, '-o', 'json']);
      const selectors = (JSON.parse(stdout) as { aggregationRule: { clusterRoleSelectors: { matchLabels: Record<string, string> }[] } }).aggregationRule
        .clusterRoleSelectors;
      const selected: Manifest[] = [];
      for (const selector of selectors) {
        const labels = Object.entries(selector.matchLabels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        selected.push(...(JSON.parse((await c.kubectl(['get', 'clusterroles', '-l', labels, '-o', 'json'])).stdout) as { items: Manifest[] }).items);
      }
      const names = selected.map((role) => role.metadata.name);
      expect(names.includes('ses-operator-view')).toBe(builtin === 'view');
      expect(names.includes('ses-operator-edit')).toBe(builtin !== 'view');
      const copy = `deploy-test-${builtin}-${id}`;
      users[builtin] = `deploy-test-${builtin}-user-${id}`;
      await createForReal(['clusterrole', copy], {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: copy },
        rules: selected.flatMap(rulesOf),
      });
      await createForReal(['clusterrolebinding', copy], {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: copy },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: copy },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: users[builtin] }],
      });
    }
    const can = async (user: string, verbs: string[], resource: string, namespace?: string) =>
      Object.fromEntries(await Promise.all(verbs.map(async (verb) => [verb, await canI(user, verb, resource, namespace)])));
    const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    const viewer = { get: true, list: true, watch: true, create: false, update: false, patch: false, delete: false };
    const editor = Object.fromEntries(all.map((verb) => [verb, true]));
    expect(await can(users.view!, all, 'sessetups.ses.channels.dev')).toEqual(viewer);
    expect(await can(users.view!, all, 'emailusecases.ses.channels.dev', 'default')).toEqual(viewer);
    for (const role of ['edit', 'admin']) {
      expect(await can(users[role]!, all, 'sessetups.ses.channels.dev')).toEqual(editor);
      expect(await can(users[role]!, all, 'emailusecases.ses.channels.dev', 'default')).toEqual(editor);
    }
    // Control: nobody else gets anything from these roles.
    expect(await canI(`deploy-test-nobody-${id}`, 'get', 'sessetups.ses.channels.dev')).toBe(false);
  });

  it('lists exactly the SES actions the gateway calls in the IAM policy', async () => {
    const gateway = await readFile(join(PROJECT_ROOT, 'src/ses/aws-gateway.ts'), 'utf8');
    const used = [...new Set([...gateway.matchAll(/new (\w+)Command\(/g)].map((m) => `ses:${m[1]}`))].sort();
    expect(used.length).toBeGreaterThan(0);
    const policy = JSON.parse(await readFile(join(DEPLOY_DIR, 'iam-policy.json'), 'utf8')) as {
      Statement: { Effect: string; Action: string[]; Resource: string }[];
    };
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]!.Effect).toBe('Allow');
    expect([...policy.Statement[0]!.Action].sort()).toEqual(used);
  });
});

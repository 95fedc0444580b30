import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGoBinary } from '../../harness/stack/go-binaries.ts';
import { DEPLOY_DIR } from '../support/deploy.ts';

/**
 * deploy/argocd/health.lua judged by Argo CD's own code (tools/argocd-health, built from Argo CD's
 * Go module): the argocd-cm block of deploy/argocd/README.md read by Argo CD's settings manager,
 * each object through gitops-engine's GetResourceHealth as the application controller calls it,
 * so built-in rules (deletion) come first and the script runs in Argo CD's restricted gopher-lua.
 */
const SCRIPT = join(DEPLOY_DIR, 'argocd/health.lua');
const README = join(DEPLOY_DIR, 'argocd/README.md');

interface Health {
  status: string;
  message: string;
  error?: string;
}

let binary: string;
let dir: string;
let argocdCm: string;

beforeAll(async () => {
  binary = await ensureGoBinary('argocd-health', (line) => process.stderr.write(`[argocd-health] ${line}\n`));
  dir = await mkdtemp(join(tmpdir(), 'ses-operator-argocd-'));
  argocdCm = join(dir, 'argocd-cm.yaml');
  await writeFile(argocdCm, readmeConfigMap(await readFile(README, 'utf8')));
}, 1_800_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The README's argocd-cm block, exactly as a user would apply it. */
function readmeConfigMap(readme: string): string {
  const block = /```yaml\n(apiVersion: v1\nkind: ConfigMap\n[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('deploy/argocd/README.md has no argocd-cm ConfigMap block');
  return block;
}

/** Argo CD's health of each object, one run of the tool for all of them. */
async function argoHealth(objects: unknown[], configMap = argocdCm): Promise<Health[]> {
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(binary, ['-argocd-cm', configMap], { timeout: 30_000 }, (error, out, stderr) =>
      error ? reject(new Error(`argocd-health failed: ${stderr || error.message}`)) : resolve(out),
    );
    child.stdin?.end(objects.map((object) => JSON.stringify(object)).join('\n'));
  });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Health);
}

type Status = 'True' | 'False' | 'Unknown';
const cond = (type: string, status: Status, reason: string, message: string, observedGeneration = 2) => ({
  type,
  status,
  reason,
  message,
  observedGeneration,
  lastTransitionTime: '2026-11-28T22:00:00Z',
});
const DELETING = { deletionTimestamp: '2026-11-28T22:05:00Z', finalizers: ['ses.channels.dev/finalizer'] };
const setup = (status?: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'ses.channels.dev/v1alpha1',
  kind: 'SesSetup',
  metadata: { name: 'acme-mail', generation: 2, uid: 'u-1', ...metadata },
  spec: { tenantName: 'acme_prod', domainIdentity: 'mail.acme.com' },
  ...(status ? { status } : {}),
});
const useCase = (status?: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'ses.channels.dev/v1alpha1',
  kind: 'EmailUseCase',
  metadata: { name: 'invoices', namespace: 'billing', generation: 2, ...metadata },
  spec: { sesSetupRef: { name: 'acme-mail' }, fromAddress: 'invoices@mail.acme.com' },
  ...(status ? { status } : {}),
});

// The conditions the SesSetup reconciler writes (src/controllers/sessetup/status.ts): TenantReady,
// IdentityReady, DnsVerified and Ready always, plus Reconciling or Stalled while not Ready.
const TENANT_OK = cond('TenantReady', 'True', 'TenantReady', 'tenant acme_prod (t-1) exists in us-east-1');
const IDENTITY_OK = cond('IdentityReady', 'True', 'IdentityReady', 'identity mail.acme.com exists and is associated with tenant acme_prod');
const READY_MESSAGE = 'tenant and identity exist and every DNS record is verified';
const READY = [TENANT_OK, IDENTITY_OK, cond('DnsVerified', 'True', 'RecordsVerified', 'all 5 records verified'), cond('Ready', 'True', 'Ready', READY_MESSAGE)];
const progressing = (reason: string, message: string, extra: unknown[] = []) => ({
  observedGeneration: 2,
  conditions: [...extra, cond('Ready', 'False', reason, message), cond('Reconciling', 'True', reason, message)],
});
const stalled = (reason: string, message: string) => ({
  observedGeneration: 2,
  conditions: [
    cond('TenantReady', 'False', reason, message),
    cond('IdentityReady', 'False', reason, message),
    cond('DnsVerified', 'Unknown', 'RecordsUnknown', 'DNS records are not known yet'),
    cond('Ready', 'False', reason, message),
    cond('Stalled', 'True', reason, message),
  ],
});
const NOT_VERIFIED = '3 of 5 DNS records not verified (DKIM: NXDOMAIN (x3)); see status.dnsRecords for what to publish';
const BLOCKED = 'deletion waits for 1 referrer(s) to be deleted: EmailUseCase billing/invoices';
const PENDING_DELETION = { status: 'Progressing', message: 'Pending deletion' };

const setupCases: { name: string; object: unknown; health: Health }[] = [
  { name: 'no status yet', object: setup(), health: { status: 'Progressing', message: 'Waiting for the operator to report status' } },
  {
    name: 'a status without conditions',
    object: setup({ observedGeneration: 2, conditions: [] }),
    health: { status: 'Progressing', message: 'Waiting for the operator to report status' },
  },
  { name: 'Ready=True', object: setup({ observedGeneration: 2, dnsVerified: true, conditions: READY }), health: { status: 'Healthy', message: READY_MESSAGE } },
  {
    name: 'Ready=True of an older generation (spec changed since)',
    object: setup({ observedGeneration: 1, conditions: READY.map((c) => ({ ...c, observedGeneration: 1 })) }),
    health: { status: 'Progressing', message: 'Waiting for the operator to observe generation 2 (status is of generation 1)' },
  },
  {
    name: 'Reconciling: DNS records not known yet',
    object: setup(progressing('RecordsUnknown', 'DNS records are not known yet', [TENANT_OK, IDENTITY_OK])),
    health: { status: 'Progressing', message: 'DNS records are not known yet' },
  },
  {
    name: 'Reconciling: DNS records not published yet',
    object: setup(progressing('RecordsNotVerified', NOT_VERIFIED, [TENANT_OK, IDENTITY_OK])),
    health: { status: 'Progressing', message: NOT_VERIFIED },
  },
  {
    name: 'Reconciling: an SES error being retried',
    object: setup(progressing('SesError', 'Rate exceeded', [cond('TenantReady', 'False', 'SesError', 'Rate exceeded')])),
    health: { status: 'Progressing', message: 'Rate exceeded' },
  },
  {
    name: 'Reconciling: the identity vanished in SES and is created again',
    object: setup(progressing('IdentityMissing', 'SES identity mail.acme.com no longer exists; creating it again', [TENANT_OK])),
    health: { status: 'Progressing', message: 'SES identity mail.acme.com no longer exists; creating it again' },
  },
  ...(
    [
      [
        'TenantNameConflict',
        'tenantName "acme_prod" is already claimed by SesSetup other; this SesSetup changes nothing in SES until that one is deleted or its tenantName differs',
      ],
      [
        'DomainConflict',
        'domainIdentity "mail.acme.com" is already claimed by SesSetup other; this SesSetup changes nothing in SES until that one is deleted or its domainIdentity differs',
      ],
      [
        'TenantNotOwned',
        'SES tenant "acme_prod" already exists in us-east-1 and was not created by this SesSetup (untagged). Nothing was changed. Choose another tenantName, or set spec.adoptionPolicy: Adopt to take it over.',
      ],
      [
        'IdentityNotOwned',
        'SES identity "mail.acme.com" already exists in us-east-1 and was not created by this SesSetup (untagged). Nothing was changed. Set spec.adoptionPolicy: Adopt to take it over.',
      ],
      ['InvalidSpec', 'invalid spec: spec.tenantName: Invalid string: must match pattern /^[a-zA-Z0-9_-]{1,64}$/'],
    ] as const
  ).map(([reason, message]) => ({ name: `Stalled: ${reason}`, object: setup(stalled(reason, message)), health: { status: 'Degraded', message } })),
  {
    name: 'a condition message with quotes, backslashes and a new line survives',
    object: setup(stalled('InvalidSpec', 'spec.tenantName "a\\b"\nis invalid')),
    health: { status: 'Degraded', message: 'spec.tenantName "a\\b"\nis invalid' },
  },
  {
    name: 'Ready=False with neither Reconciling nor Stalled (a status written elsewhere)',
    object: setup({ observedGeneration: 2, conditions: [cond('Ready', 'False', 'Disabled', 'SES tenant is not sending: DISABLED')] }),
    health: { status: 'Degraded', message: 'SES tenant is not sending: DISABLED' },
  },
  {
    name: 'being deleted, SES teardown under way',
    object: setup({ observedGeneration: 2, dnsVerified: true, conditions: READY }, DELETING),
    health: PENDING_DELETION,
  },
  {
    name: 'being deleted, deletion blocked by a referrer (DeletionBlocked=True)',
    object: setup(
      {
        observedGeneration: 3,
        usedBy: ['EmailUseCase billing/invoices'],
        usedByCount: 1,
        conditions: [...READY.slice(0, 3), cond('Ready', 'False', 'DeletionBlocked', BLOCKED, 3), cond('DeletionBlocked', 'True', 'ReferencedBy', BLOCKED, 3)],
      },
      { ...DELETING, generation: 3 },
    ),
    health: PENDING_DELETION,
  },
  {
    name: 'being deleted before the operator wrote any status',
    object: setup(undefined, DELETING),
    health: PENDING_DELETION,
  },
];

// The conditions the EmailUseCase reconciler writes (src/controllers/emailusecase/reconciler.ts):
// Ready always, plus Reconciling (waiting on the setup) or Stalled (a person must fix the spec).
const waiting = (reason: string, message: string) => ({
  observedGeneration: 2,
  conditions: [cond('Ready', 'False', reason, message), cond('Reconciling', 'True', reason, message)],
});
const USE_CASE_READY = 'sending from invoices@mail.acme.com through SesSetup acme-mail';
const OUTSIDE = 'fromAddress invoices@other.com is not inside mail.acme.com, the domain of SesSetup acme-mail';

const useCaseCases: { name: string; object: unknown; health: Health }[] = [
  { name: 'no status yet', object: useCase(), health: { status: 'Progressing', message: 'Waiting for the operator to report status' } },
  {
    name: 'Ready=True',
    object: useCase({ observedGeneration: 2, conditions: [cond('Ready', 'True', 'Ready', USE_CASE_READY)] }),
    health: { status: 'Healthy', message: USE_CASE_READY },
  },
  {
    name: 'Ready=True of an older generation',
    object: useCase({ observedGeneration: 1, conditions: [cond('Ready', 'True', 'Ready', USE_CASE_READY, 1)] }),
    health: { status: 'Progressing', message: 'Waiting for the operator to observe generation 2 (status is of generation 1)' },
  },
  {
    name: "without status.observedGeneration: the Ready condition's generation counts",
    object: useCase({ conditions: [cond('Ready', 'True', 'Ready', USE_CASE_READY, 1)] }),
    health: { status: 'Progressing', message: 'Waiting for the operator to observe generation 2 (status is of generation 1)' },
  },
  ...(
    [
      ['SetupNotFound', 'SesSetup acme-mail does not exist'],
      ['SetupNotReady', `SesSetup acme-mail is not Ready: ${NOT_VERIFIED}`],
      ['SetupNotReady', 'SesSetup acme-mail is not Ready yet'],
      ['SetupDeleting', 'SesSetup acme-mail is being deleted'],
    ] as const
  ).map(([reason, message]) => ({ name: `Reconciling: ${reason}`, object: useCase(waiting(reason, message)), health: { status: 'Progressing', message } })),
  ...(
    [
      ['FromAddressOutsideDomain', OUTSIDE],
      ['InvalidSpec', 'invalid spec: spec.fromAddress: Invalid email address'],
    ] as const
  ).map(([reason, message]) => ({
    name: `Stalled: ${reason}`,
    object: useCase({ observedGeneration: 2, conditions: [cond('Ready', 'False', reason, message), cond('Stalled', 'True', reason, message)] }),
    health: { status: 'Degraded', message },
  })),
  {
    name: 'being deleted (a finalizer of someone else holds it)',
    object: useCase(
      {
        observedGeneration: 2,
        conditions: [cond('Ready', 'False', 'FromAddressOutsideDomain', OUTSIDE), cond('Stalled', 'True', 'FromAddressOutsideDomain', OUTSIDE)],
      },
      { deletionTimestamp: '2026-11-28T22:05:00Z', finalizers: ['example.com/audit'] },
    ),
    health: PENDING_DELETION,
  },
];

describe('Argo CD health of SesSetup and EmailUseCase (Argo CD v3.2 health code, deploy/argocd/README.md argocd-cm)', () => {
  it.each([...setupCases.map((c) => ({ ...c, kind: 'SesSetup' })), ...useCaseCases.map((c) => ({ ...c, kind: 'EmailUseCase' }))])(
    '$kind $name -> $health.status',
    async ({ object, health }) => {
      expect(await argoHealth([object])).toEqual([health]);
    },
  );

  it('answers a stream of objects in order, one line each', async () => {
    const cases = [...setupCases, ...useCaseCases];
    expect(await argoHealth(cases.map((c) => c.object))).toEqual(cases.map((c) => c.health));
  });

  it('runs the script only for the kinds argocd-cm names, and only from a ConfigMap Argo CD reads', async () => {
    const other = { apiVersion: 'ses.channels.dev/v1alpha1', kind: 'Other', metadata: { name: 'x' }, status: { conditions: [] } };
    // No custom script and no built-in rule for a kind: Argo CD gives it no health at all.
    expect(await argoHealth([other])).toEqual([{ status: '', message: '' }]);
    // Argo CD's settings manager only reads an argocd-cm labelled app.kubernetes.io/part-of: argocd.
    const unlabelled = join(dir, 'unlabelled.yaml');
    await writeFile(unlabelled, (await readFile(argocdCm, 'utf8')).replace('    app.kubernetes.io/part-of: argocd\n', '    team: mail\n'));
    await expect(argoHealth([setup()], unlabelled)).rejects.toThrow(/argocd-cm/);
  });

  it('a script using a library Argo CD does not open fails as Argo CD reports it (Unknown), so health.lua uses none', async () => {
    const withString = join(dir, 'string-lib.yaml');
    const script = 'local hs = {}\n    hs.status = "Healthy"\n    hs.message = string.upper("ready")\n    return hs';
    await writeFile(
      withString,
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n  labels:\n    app.kubernetes.io/part-of: argocd\ndata:\n  resource.customizations.health.ses.channels.dev_SesSetup: |\n    ${script}\n`,
    );
    const [health] = await argoHealth([setup()], withString);
    expect(health?.status).toBe('Unknown');
    expect(health?.message).toMatch(/attempt to index a non-table object\(nil\) with key 'upper'/);
    expect(await readFile(SCRIPT, 'utf8')).not.toMatch(/\b(string|math|io|debug|coroutine)\./);
  });

  it('the argocd-cm snippet in deploy/argocd/README.md carries health.lua verbatim, for both kinds', async () => {
    const script = await readFile(SCRIPT, 'utf8');
    const readme = await readFile(README, 'utf8');
    for (const kind of ['SesSetup', 'EmailUseCase']) {
      const key = `  resource.customizations.health.ses.channels.dev_${kind}: |\n`;
      expect(readme).toContain(key);
      const block = readme.slice(readme.indexOf(key) + key.length).split('\n');
      const body = block
        .slice(
          0,
          block.findIndex((line) => line !== '' && !line.startsWith('    ')),
        )
        .map((line) => line.slice(4));
      expect(body.join('\n').trimEnd()).toBe(script.trimEnd());
    }
  });
});

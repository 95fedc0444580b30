import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR } from '../support/deploy.ts';

/**
 * deploy/argocd/health.lua run by the real Lua interpreter (Debian's lua5.4; Argo CD runs the same
 * script in gopher-lua, Lua 5.1, so it uses nothing newer), the way Argo CD calls it: the live
 * object in the global `obj`, the chunk returns { status, message }.
 */
const SCRIPT = join(DEPLOY_DIR, 'argocd/health.lua');

/** A JSON value as a Lua table constructor (JSON null -> nil, so the key is absent as in Argo CD). */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value); // JSON string escapes are valid Lua escapes (\uXXXX aside)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`)
    .join(', ')}}`;
}

/** Lua 5.1 is Argo CD's dialect: where Debian's lua5.1 is installed too, every case also runs on it. */
const LUA_5_1 = await new Promise<boolean>((resolve) => execFile('lua5.1', ['-v'], (error) => resolve(!error)));

async function health(object: unknown, lua = 'lua5.4'): Promise<{ status: string; message: string }> {
  const program = `obj = ${toLua(object)}\nlocal hs = dofile(${JSON.stringify(SCRIPT)})\nio.write(hs.status, "\\n", hs.message)\n`;
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(lua, ['-'], { timeout: 10_000 }, (error, out, stderr) =>
      error ? reject(new Error(`${lua} failed: ${stderr || error.message}`)) : resolve(out),
    );
    child.stdin?.end(program);
  });
  const [status = '', ...message] = stdout.split('\n');
  return { status, message: message.join('\n') };
}

type Status = 'True' | 'False' | 'Unknown';
const cond = (type: string, status: Status, message = `${type} is ${status}`, observedGeneration = 2) => ({
  type,
  status,
  reason: type,
  message,
  observedGeneration,
  lastTransitionTime: '2026-11-28T22:00:00Z',
});
const setup = (status?: Record<string, unknown>, generation = 2) => ({
  apiVersion: 'ses.channels.dev/v1alpha1',
  kind: 'SesSetup',
  metadata: { name: 'acme-mail', generation, uid: 'u-1' },
  spec: { tenantName: 'acme_prod', domainIdentity: 'mail.acme.com' },
  ...(status ? { status } : {}),
});
const useCase = (conditions: unknown[], observedGeneration?: number) => ({
  apiVersion: 'ses.channels.dev/v1alpha1',
  kind: 'EmailUseCase',
  metadata: { name: 'invoices', namespace: 'billing', generation: 2 },
  spec: { sesSetupRef: { name: 'acme-mail' }, fromAddress: 'invoices@mail.acme.com' },
  status: { ...(observedGeneration === undefined ? {} : { observedGeneration }), conditions },
});

const cases: { name: string; object: unknown; status: string; message: string | RegExp }[] = [
  { name: 'no status yet', object: setup(), status: 'Progressing', message: 'Waiting for the operator to report status' },
  {
    name: 'status without conditions',
    object: setup({ observedGeneration: 2, conditions: [] }),
    status: 'Progressing',
    message: 'Waiting for the operator to report status',
  },
  {
    name: 'Ready=True',
    object: setup({
      observedGeneration: 2,
      dnsVerified: true,
      conditions: [cond('TenantReady', 'True'), cond('Ready', 'True', 'tenant and identity exist and every DNS record is verified')],
    }),
    status: 'Healthy',
    message: 'tenant and identity exist and every DNS record is verified',
  },
  {
    name: 'Ready=True of an older generation (spec changed since)',
    object: setup({ observedGeneration: 1, conditions: [cond('Ready', 'True', 'ready', 1)] }, 2),
    status: 'Progressing',
    message: 'Waiting for the operator to observe generation 2 (status is of generation 1)',
  },
  {
    name: 'DNS records not published yet: Reconciling=True',
    object: setup({
      observedGeneration: 2,
      conditions: [
        cond('Ready', 'False', '3 of 5 DNS records not verified'),
        cond('Reconciling', 'True', '3 of 5 DNS records not verified (DKIM: NXDOMAIN (x3)); see status.dnsRecords for what to publish'),
      ],
    }),
    status: 'Progressing',
    message: '3 of 5 DNS records not verified (DKIM: NXDOMAIN (x3)); see status.dnsRecords for what to publish',
  },
  {
    name: 'deletion blocked by referrers',
    object: setup({
      observedGeneration: 2,
      conditions: [cond('Ready', 'False', 'blocked'), cond('DeletionBlocked', 'True', 'deletion waits for 1 referrer: EmailUseCase billing/invoices')],
    }),
    status: 'Degraded',
    message: 'deletion waits for 1 referrer: EmailUseCase billing/invoices',
  },
  {
    name: 'DeletionBlocked wins over a Ready=True not yet updated',
    object: setup({ observedGeneration: 2, conditions: [cond('Ready', 'True'), cond('DeletionBlocked', 'True', 'deletion waits for 2 referrers')] }),
    status: 'Degraded',
    message: 'deletion waits for 2 referrers',
  },
  {
    name: 'Stalled=True (a conflict)',
    object: setup({
      observedGeneration: 2,
      conditions: [cond('Ready', 'False', 'conflict'), cond('Stalled', 'True', 'tenantName acme_prod is already claimed by SesSetup other')],
    }),
    status: 'Degraded',
    message: 'tenantName acme_prod is already claimed by SesSetup other',
  },
  {
    name: 'Ready=False with neither Reconciling nor Stalled',
    object: setup({ observedGeneration: 2, conditions: [cond('Ready', 'False', 'SES tenant is not sending: DISABLED')] }),
    status: 'Degraded',
    message: 'SES tenant is not sending: DISABLED',
  },
  {
    name: 'DeletionBlocked=False and Stalled=False are ignored',
    object: setup({ observedGeneration: 2, conditions: [cond('DeletionBlocked', 'False'), cond('Stalled', 'False'), cond('Ready', 'True', 'ok')] }),
    status: 'Healthy',
    message: 'ok',
  },
  {
    name: 'a condition message with quotes, backslashes and a new line survives',
    object: setup({ observedGeneration: 2, conditions: [cond('Stalled', 'True', 'spec.tenantName "a\\b"\nis invalid')] }),
    status: 'Degraded',
    message: 'spec.tenantName "a\\b"\nis invalid',
  },
  {
    name: 'EmailUseCase Ready=True',
    object: useCase([cond('Ready', 'True', 'SesSetup acme-mail is Ready')], 2),
    status: 'Healthy',
    message: 'SesSetup acme-mail is Ready',
  },
  {
    name: 'EmailUseCase waiting for its setup',
    object: useCase([cond('Ready', 'False', 'SesSetup acme-mail is not Ready yet'), cond('Reconciling', 'True', 'SesSetup acme-mail is not Ready yet')], 2),
    status: 'Progressing',
    message: 'SesSetup acme-mail is not Ready yet',
  },
  {
    name: 'EmailUseCase fromAddress outside the domain',
    object: useCase(
      [cond('Ready', 'False', 'outside'), cond('Stalled', 'True', 'fromAddress a@other.com is not inside mail.acme.com, the domain of SesSetup acme-mail')],
      2,
    ),
    status: 'Degraded',
    message: /is not inside mail\.acme\.com/,
  },
  {
    name: "EmailUseCase without status.observedGeneration: the Ready condition's generation counts",
    object: useCase([cond('Ready', 'True', 'ready', 1)]),
    status: 'Progressing',
    message: 'Waiting for the operator to observe generation 2 (status is of generation 1)',
  },
];

describe('deploy/argocd/health.lua (real lua5.4)', () => {
  it.each(cases)('$name -> $status', async ({ object, status, message }) => {
    const hs = await health(object);
    expect(hs.status).toBe(status);
    if (typeof message === 'string') expect(hs.message).toBe(message);
    else expect(hs.message).toMatch(message);
    if (LUA_5_1) expect(await health(object, 'lua5.1')).toEqual(hs);
  });

  it('the argocd-cm snippet in deploy/argocd/README.md carries health.lua verbatim, for both kinds', async () => {
    const script = await readFile(SCRIPT, 'utf8');
    const readme = await readFile(join(DEPLOY_DIR, 'argocd/README.md'), 'utf8');
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

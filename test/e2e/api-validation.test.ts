import { beforeAll, describe, expect, it } from 'vitest';
import { cluster, uniqueSuffix } from '../support/cluster.ts';

const c = cluster();
const id = uniqueSuffix();
const good = { tenantName: `good_${id}`, domainIdentity: `mail.good-${id}.test` };

/** [what, spec, field the API server's message must name]. */
const invalidSetups: [string, Record<string, unknown>, string][] = [
  ['missing tenantName', { domainIdentity: good.domainIdentity }, 'spec.tenantName'],
  ['missing domainIdentity', { tenantName: good.tenantName }, 'spec.domainIdentity'],
  ['empty tenantName', { ...good, tenantName: '' }, 'spec.tenantName'],
  ['tenantName with a space', { ...good, tenantName: 'acme prod' }, 'spec.tenantName'],
  ['tenantName with a dot', { ...good, tenantName: 'acme.prod' }, 'spec.tenantName'],
  ['tenantName with a slash', { ...good, tenantName: 'acme/prod' }, 'spec.tenantName'],
  ['tenantName with unicode', { ...good, tenantName: 'acmé' }, 'spec.tenantName'],
  ['tenantName of 65 characters', { ...good, tenantName: 'a'.repeat(65) }, 'spec.tenantName'],
  ['tenantName as a number', { ...good, tenantName: 42 }, 'spec.tenantName'],
  ['tenantName as an object', { ...good, tenantName: { name: 'x' } }, 'spec.tenantName'],
  ['empty domainIdentity', { ...good, domainIdentity: '' }, 'spec.domainIdentity'],
  ['upper-case domainIdentity', { ...good, domainIdentity: 'Mail.Acme.com' }, 'spec.domainIdentity'],
  ['single-label domainIdentity', { ...good, domainIdentity: 'localhost' }, 'spec.domainIdentity'],
  ['domainIdentity with a trailing dot', { ...good, domainIdentity: 'mail.acme.com.' }, 'spec.domainIdentity'],
  ['domainIdentity with an empty label', { ...good, domainIdentity: 'mail..acme.com' }, 'spec.domainIdentity'],
  ['domainIdentity label starting with a hyphen', { ...good, domainIdentity: '-mail.acme.com' }, 'spec.domainIdentity'],
  ['domainIdentity label ending with a hyphen', { ...good, domainIdentity: 'mail-.acme.com' }, 'spec.domainIdentity'],
  ['domainIdentity label of 64 characters', { ...good, domainIdentity: `${'a'.repeat(64)}.acme.com` }, 'spec.domainIdentity'],
  ['domainIdentity of 254 characters', { ...good, domainIdentity: `${'a.'.repeat(125)}acme` }, 'spec.domainIdentity'],
  ['domainIdentity with an underscore', { ...good, domainIdentity: 'mail_x.acme.com' }, 'spec.domainIdentity'],
  ['domainIdentity that is an email address', { ...good, domainIdentity: 'me@acme.com' }, 'spec.domainIdentity'],
  ['domainIdentity with a scheme', { ...good, domainIdentity: 'https://acme.com' }, 'spec.domainIdentity'],
  ['domainIdentity as a list', { ...good, domainIdentity: ['acme.com'] }, 'spec.domainIdentity'],
  ['region in upper case', { ...good, region: 'EU-WEST-1' }, 'spec.region'],
  ['region without a number', { ...good, region: 'eu-west' }, 'spec.region'],
  ['region that is a word', { ...good, region: 'europe' }, 'spec.region'],
  ['region as a number', { ...good, region: 1 }, 'spec.region'],
  ['unknown dmarc policy', { ...good, dmarc: { policy: 'block' } }, 'spec.dmarc.policy'],
  ['dmarc policy in capitals', { ...good, dmarc: { policy: 'NONE' } }, 'spec.dmarc.policy'],
  ['dmarc reportingAddress without mailto:', { ...good, dmarc: { reportingAddress: 'dmarc@acme.com' } }, 'spec.dmarc.reportingAddress'],
  ['dmarc reportingAddress without a domain', { ...good, dmarc: { reportingAddress: 'mailto:dmarc' } }, 'spec.dmarc.reportingAddress'],
  ['dmarc reportingAddress with two addresses', { ...good, dmarc: { reportingAddress: 'mailto:a@x.com,mailto:b@y.com' } }, 'spec.dmarc.reportingAddress'],
  ['dmarc as a string', { ...good, dmarc: 'p=none' }, 'spec.dmarc'],
  ['unknown field in dmarc', { ...good, dmarc: { policy: 'none', pct: 50 } }, 'spec.dmarc.pct'],
  ['unknown deletionPolicy', { ...good, deletionPolicy: 'Orphan' }, 'spec.deletionPolicy'],
  ['deletionPolicy in lower case', { ...good, deletionPolicy: 'delete' }, 'spec.deletionPolicy'],
  ['unknown adoptionPolicy', { ...good, adoptionPolicy: 'Always' }, 'spec.adoptionPolicy'],
  ['adoptionPolicy as a boolean', { ...good, adoptionPolicy: true }, 'spec.adoptionPolicy'],
  ['unknown top-level spec field', { ...good, tenant: 'x' }, 'spec.tenant'],
  ['mailFrom domain outside domainIdentity', { ...good, mailFrom: { domain: `bounce.other-${id}.test` } }, 'spec.mailFrom.domain'],
  ['mailFrom domain equal to domainIdentity', { ...good, mailFrom: { domain: good.domainIdentity } }, 'spec.mailFrom.domain'],
  ['mailFrom domain ending like domainIdentity without a dot', { ...good, mailFrom: { domain: `x${good.domainIdentity}` } }, 'spec.mailFrom.domain'],
  ['mailFrom domain in capitals', { ...good, mailFrom: { domain: `Bounce.${good.domainIdentity}` } }, 'spec.mailFrom.domain'],
  ['mailFrom without a domain', { ...good, mailFrom: { behaviorOnMxFailure: 'RejectMessage' } }, 'spec.mailFrom.domain'],
  [
    'unknown behaviorOnMxFailure',
    { ...good, mailFrom: { domain: `b.${good.domainIdentity}`, behaviorOnMxFailure: 'REJECT_MESSAGE' } },
    'spec.mailFrom.behaviorOnMxFailure',
  ],
];

const invalidUseCases: [string, Record<string, unknown>, string][] = [
  ['missing sesSetupRef', { fromAddress: 'a@mail.acme.test' }, 'spec.sesSetupRef'],
  ['missing fromAddress', { sesSetupRef: { name: 'acme' } }, 'spec.fromAddress'],
  ['sesSetupRef without a name', { sesSetupRef: {}, fromAddress: 'a@mail.acme.test' }, 'spec.sesSetupRef.name'],
  ['sesSetupRef name in capitals', { sesSetupRef: { name: 'Acme' }, fromAddress: 'a@mail.acme.test' }, 'spec.sesSetupRef.name'],
  ['fromAddress without @', { sesSetupRef: { name: 'acme' }, fromAddress: 'invoices' }, 'spec.fromAddress'],
  ['fromAddress with a space', { sesSetupRef: { name: 'acme' }, fromAddress: 'in voices@mail.acme.test' }, 'spec.fromAddress'],
  ['fromAddress as a number', { sesSetupRef: { name: 'acme' }, fromAddress: 7 }, 'spec.fromAddress'],
  ['unknown field in sesSetupRef', { sesSetupRef: { name: 'acme', namespace: 'x' }, fromAddress: 'a@mail.acme.test' }, 'spec.sesSetupRef.namespace'],
];

describe('the API server rejects invalid objects with a message naming the field', () => {
  beforeAll(async () => {
    await c.installCrds();
    await c.ensureNamespace(`valid-${id}`);
  });

  it.each(invalidSetups)('SesSetup: %s', async (_what, spec, field) => {
    const manifest = JSON.stringify({ apiVersion: 'ses.channels.dev/v1alpha1', kind: 'SesSetup', metadata: { name: `bad-${id}` }, spec });
    const failure = await c.kubectl(['create', '-f', '-'], manifest).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure, 'the API server accepted it').toBeInstanceOf(Error);
    expect(failure!.message).toContain(field);
  });

  it.each(invalidUseCases)('EmailUseCase: %s', async (_what, spec, field) => {
    const manifest = JSON.stringify({
      apiVersion: 'ses.channels.dev/v1alpha1',
      kind: 'EmailUseCase',
      metadata: { name: `bad-${id}`, namespace: `valid-${id}` },
      spec,
    });
    const failure = await c.kubectl(['create', '-f', '-'], manifest).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure, 'the API server accepted it').toBeInstanceOf(Error);
    expect(failure!.message).toContain(field);
  });

  it('accepts a valid SesSetup and fills in the schema defaults', async () => {
    const created = await c.createSetup(`valid-${id}`, { ...good, dmarc: {} });
    expect(created.spec).toEqual({ ...good, dmarc: { policy: 'none' }, deletionPolicy: 'Delete', adoptionPolicy: 'Never' });
    await c.deleteSetup(`valid-${id}`);
  });
});

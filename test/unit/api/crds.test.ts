import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCrdFiles } from '../../../harness/codegen/crd-files.ts';
import { customResourceDefinitions } from '../../../harness/codegen/crds.ts';
import { emailUseCaseSpecSchema } from '../../../src/api/emailusecase.ts';
import { sesSetupSpecSchema } from '../../../src/api/sessetup.ts';
import { PROJECT_ROOT } from '../../../harness/stack/go-binaries.ts';

describe('CRDs, zod schemas and types stay one', () => {
  it('crds/ is exactly what the zod schemas generate (run `npm run generate:crds` after changing src/api)', async () => {
    for (const [file, text] of Object.entries(renderCrdFiles())) {
      expect(await readFile(join(PROJECT_ROOT, 'crds', file), 'utf8'), file).toBe(text);
    }
  });

  it('zod applies the same defaults the CRD schema declares', () => {
    expect(sesSetupSpecSchema.parse({ tenantName: 'a', domainIdentity: 'mail.a.test', dmarc: {} })).toEqual({
      tenantName: 'a',
      domainIdentity: 'mail.a.test',
      dmarc: { policy: 'none' },
      deletionPolicy: 'Delete',
      adoptionPolicy: 'Never',
      dnsPublication: 'Manual',
    });
  });

  it('zod rejects what the API server rejects (a sample)', () => {
    for (const spec of [
      { tenantName: 'bad name', domainIdentity: 'mail.a.test' },
      { tenantName: 'a', domainIdentity: 'Mail.A.test' },
      { tenantName: 'a', domainIdentity: 'mail.a.test', region: 'EU' },
      { tenantName: 'a', domainIdentity: 'mail.a.test', extra: 1 },
      { tenantName: 'a', domainIdentity: 'mail.a.test', mailFrom: { domain: 'bounce.other.test' } },
      { tenantName: 'a', domainIdentity: 'mail.a.test', mailFrom: { domain: 'mail.a.test' } },
      { tenantName: 'a', domainIdentity: 'mail.a.test', mailFrom: { domain: 'bounce.mail.a.test', behaviorOnMxFailure: 'REJECT_MESSAGE' } },
    ]) {
      expect(sesSetupSpecSchema.safeParse(spec).success, JSON.stringify(spec)).toBe(false);
    }
    expect(sesSetupSpecSchema.parse({ tenantName: 'a', domainIdentity: 'mail.a.test', mailFrom: { domain: 'bounce.mail.a.test' } }).mailFrom).toEqual({
      domain: 'bounce.mail.a.test',
      behaviorOnMxFailure: 'UseDefaultValue',
    });
    expect(emailUseCaseSpecSchema.safeParse({ sesSetupRef: { name: 'a' }, fromAddress: 'nobody' }).success).toBe(false);
  });

  it('describes every property of both kinds, nested ones included (what `kubectl explain` prints)', () => {
    const undescribed: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      const properties = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, child] of Object.entries(properties)) {
        const at = `${path}.${name}`;
        // The API server refuses anything but `type` on the root's metadata (it serves ObjectMeta's own docs).
        if (path.indexOf('.') === -1 && name === 'metadata') continue;
        if (typeof child.description !== 'string' || child.description.trim() === '') undescribed.push(at);
        walk(child, at);
      }
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
    };
    const crds = customResourceDefinitions() as { spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } }[];
    for (const crd of crds) for (const version of crd.spec.versions) walk(version.schema.openAPIV3Schema, crd.spec.names.kind);
    expect(crds.map((crd) => crd.spec.names.kind)).toEqual(['SesSetup', 'EmailUseCase']);
    expect(undescribed).toEqual([]);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { customResourceDefinitions } from '../../harness/codegen/crds.ts';
import { cluster } from '../support/cluster.ts';
import { waitUntil } from '../../harness/stack/wait.ts';

const c = cluster();

type Schema = { description?: string; properties?: Record<string, Schema>; items?: Schema };

/** The generated schema of a kind's field, e.g. ('SesSetup', 'status.identity'). */
function schemaOf(kind: string, path: string): Schema {
  const crd = (customResourceDefinitions() as { spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: Schema } }[] } }[]).find(
    (found) => found.spec.names.kind === kind,
  )!;
  let node = crd.spec.versions[0]!.schema.openAPIV3Schema;
  for (const part of path.split('.')) node = (node.properties?.[part] ?? node.items?.properties?.[part])!;
  return node;
}

/** kubectl explain prints descriptions re-wrapped: compare with whitespace collapsed. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('kubectl explain describes every field (descriptions published by the API server)', () => {
  beforeAll(async () => {
    await c.installCrds();
  });

  for (const [kind, resource, paths] of [
    ['SesSetup', 'sessetup', ['spec', 'status', 'status.identity', 'status.dnsRecords', 'spec.dmarc']],
    ['EmailUseCase', 'emailusecase', ['spec', 'status', 'spec.sesSetupRef']],
  ] as const) {
    for (const path of paths) {
      it(`kubectl explain ${resource}.${path} prints the description of each field`, async () => {
        const fields = Object.entries(schemaOf(kind, path).properties ?? schemaOf(kind, path).items?.properties ?? {});
        expect(fields.length).toBeGreaterThan(0);
        // The API server publishes a new CRD's OpenAPI a moment after it is Established.
        const output = await waitUntil(`kubectl explain ${resource}.${path} to show descriptions`, async () => {
          const { stdout } = await c.kubectl(['explain', `${resource}.${path}`]);
          return flat(stdout).includes(flat(fields[0]![1].description!)) ? stdout : undefined;
        });
        for (const [field, schema] of fields) {
          expect(output).toMatch(new RegExp(`^ {2}${field}\\b`, 'm'));
          expect(flat(output), `${resource}.${path}.${field}`).toContain(flat(schema.description!));
        }
      });
    }
  }
});

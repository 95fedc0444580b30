import { z } from 'zod';
import { emailUseCaseSpecSchema, emailUseCaseStatusSchema } from '../../src/api/emailusecase.ts';
import { CATEGORY, EMAIL_USE_CASE, GROUP, SES_SETUP, VERSION } from '../../src/api/group.ts';
import { sesSetupSpecSchema, sesSetupStatusSchema } from '../../src/api/sessetup.ts';

type JsonSchema = Record<string, unknown>;

/**
 * The CRDs are generated from the zod schemas the controllers parse with, so the two cannot drift;
 * `npm run generate:crds` writes crds/, and a test fails when crds/ differs from this output.
 */
export function customResourceDefinitions(): JsonSchema[] {
  return [
    crd({
      names: SES_SETUP,
      scope: 'Cluster',
      spec: sesSetupSpecSchema,
      status: sesSetupStatusSchema,
      description: 'An SES sending domain: tenant, domain identity, and the DNS records the customer must publish.',
      columns: [
        { name: 'Tenant', type: 'string', jsonPath: '.spec.tenantName' },
        { name: 'Domain', type: 'string', jsonPath: '.spec.domainIdentity' },
        { name: 'DNS-Verified', type: 'boolean', jsonPath: '.status.dnsVerified' },
        { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    }),
    crd({
      names: EMAIL_USE_CASE,
      scope: 'Namespaced',
      spec: emailUseCaseSpecSchema,
      status: emailUseCaseStatusSchema,
      description: 'A use case that sends from an SesSetup; the setup cannot be deleted while it exists.',
      columns: [
        { name: 'Setup', type: 'string', jsonPath: '.spec.sesSetupRef.name' },
        { name: 'From', type: 'string', jsonPath: '.spec.fromAddress' },
        { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    }),
  ];
}

function crd(o: {
  names: { kind: string; plural: string; singular: string; shortNames: readonly string[] };
  scope: 'Cluster' | 'Namespaced';
  spec: z.ZodType;
  status: z.ZodType;
  description: string;
  columns: { name: string; type: string; jsonPath: string }[];
}): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${o.names.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: o.scope,
      names: {
        kind: o.names.kind,
        listKind: `${o.names.kind}List`,
        plural: o.names.plural,
        singular: o.names.singular,
        shortNames: [...o.names.shortNames],
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: o.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: o.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: `The API version of this object: ${GROUP}/${VERSION}.` },
                kind: { type: 'string', description: `The kind of this object: ${o.names.kind}.` },
                // Only `type` is allowed here: kubectl explain shows ObjectMeta's own descriptions.
                metadata: { type: 'object' },
                spec: openApi(o.spec, 'input'),
                status: openApi(o.status, 'output'),
              },
            },
          },
        },
      ],
    },
  };
}

/** zod -> OpenAPI v3 as a structural CRD schema accepts it. */
export function openApi(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return structural(z.toJSONSchema(schema, { io, target: 'openapi-3.0' }) as JsonSchema);
}

function structural(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    // CRDs prune unknown fields already; `additionalProperties: false` beside `properties` is not allowed.
    if (key === 'additionalProperties' && value === false) continue;
    if (key === '$schema') continue;
    // zod's int() adds the safe-integer range; int64 says the same to Kubernetes.
    if ((key === 'minimum' && value === Number.MIN_SAFE_INTEGER) || (key === 'maximum' && value === Number.MAX_SAFE_INTEGER)) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [name, structural(child)]));
    } else if (key === 'items') {
      out[key] = structural(value as JsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (out.type === 'integer' && out.format === undefined) out.format = 'int64';
  return out;
}

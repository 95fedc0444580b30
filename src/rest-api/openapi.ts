import { z } from 'zod';
import { PERMISSIONS } from './auth.ts';
import { ROUTES, type Route } from './routes.ts';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  createBodySchema,
  errorSchema,
  setupDetailSchema,
  setupListSchema,
  setupPathSchema,
  workspacePathSchema,
} from './schemas.ts';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);

const OPERATIONS: Record<Route['name'], { summary: string; description: string; responses: Record<string, object>; body?: boolean }> = {
  list: {
    summary: 'List SES setups',
    description:
      'Paginated list of every SES setup on the platform, in a stable order (creation time, then name). Items carry the cached dns_verified aggregate; call GET /ses-setup/{setup_id} for per-record DNS detail. Requires Channel.view.',
    responses: { '200': json(ref('SetupList'), 'A page of setups') },
  },
  create: {
    summary: 'Create an SES setup',
    description:
      "Creates a SesSetup (SES tenant + domain identity) named after the tenant name and waits, bounded by the operator's --api-refresh-timeout, for the DNS records to publish. 201 with the records; 202 with the setup and no records when the wait ran out (notice says so). Requires Channel.create.",
    body: true,
    responses: {
      '201': json(ref('SetupDetail'), 'Created, with the DNS records to publish'),
      '202': json(ref('SetupDetail'), 'Created; the records were not ready within the wait (GET the setup later)'),
      '409': error('The tenant name or the domain is already used by another setup'),
      '415': error('The body is not application/json'),
      '413': error('The body is larger than 16 KiB'),
      '400': error('The body is not valid JSON'),
    },
  },
  get: {
    summary: 'Get an SES setup with live DNS refresh',
    description:
      'Full detail with per-record DNS verification, after a live check asked of the operator (bounded by --api-refresh-timeout; refreshed=false and a notice when an older result is returned). Concurrent requests for one setup share one check. Requires Channel.view.',
    responses: { '200': json(ref('SetupDetail'), 'The setup after a live check'), '404': error('No setup with this id') },
  },
  verify: {
    summary: 'Refresh SES DNS verification',
    description: 'The same as GET /ses-setup/{setup_id}, as an action. Requires Channel.view.',
    responses: { '200': json(ref('SetupDetail'), 'The setup after a live check'), '404': error('No setup with this id') },
  },
  delete: {
    summary: 'Delete an SES setup',
    description:
      'Issues the deletion; the operator tears the SES tenant and identity down behind its finalizer. Refused with 409 while use cases reference the setup. Requires Channel.delete.',
    responses: { '204': { description: 'Deletion issued' }, '404': error('No setup with this id'), '409': error('Use cases still reference the setup') },
  },
  openapi: {
    summary: 'This document',
    description: 'The OpenAPI document of this API (no authentication).',
    responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } },
  },
};

function parameters(route: Route): object[] {
  if (route.name === 'openapi') return [];
  const pathSchema = jsonSchema(route.template.includes('{setup_id}') ? setupPathSchema : workspacePathSchema, 'input') as {
    properties: Record<string, { description?: string }>;
  };
  const params: object[] = Object.entries(pathSchema.properties).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    description: schema.description,
    schema: { type: 'string', format: 'uuid' },
  }));
  if (route.name === 'list') {
    params.push(
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: `Page size, 1 to ${MAX_PAGE_SIZE}.`,
        schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
      },
      {
        name: 'continuation_token',
        in: 'query',
        required: false,
        description: "Offset of the page: the previous answer's continuation_token.",
        schema: { type: 'integer', minimum: 0, default: 0 },
      },
    );
  }
  return params;
}

/** The OpenAPI 3.1 document of exactly the endpoints served, from the same zod schemas that validate requests. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of ROUTES) {
    const operation = OPERATIONS[route.name];
    const common: Record<string, object> =
      route.permission === undefined
        ? {}
        : {
            '401': error('No bearer token, or one the cluster does not accept'),
            '403': error(`The caller lacks ${route.permission} (${PERMISSIONS[route.permission].join(' and ')} on sessetups.ses.channels.dev)`),
            '422': error('A path, query or body field is invalid; fields names each'),
            '503': error("The operator's cache is not synced yet, or the Kubernetes API did not answer"),
          };
    (paths[route.template] ??= {})[route.method.toLowerCase()] = {
      operationId: `${route.name}SesSetup${route.name === 'list' ? 's' : ''}`.replace('openapiSesSetup', 'openApiDocument'),
      summary: operation.summary,
      description: operation.description,
      ...(route.template.startsWith('/v1/') ? { tags: ['Channels'] } : {}),
      ...(route.permission ? {} : { security: [] }),
      parameters: parameters(route),
      ...(operation.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref('CreateSetup') } } } } : {}),
      responses: { ...operation.responses, ...common },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ses-operator Channels API',
      version,
      description:
        'The original Channels / SES setup API, served by ses-operator on top of SesSetup resources. Authentication: a Kubernetes bearer token (TokenReview); authorization: RBAC on sessetups.ses.channels.dev (SubjectAccessReview).',
    },
    tags: [{ name: 'Channels' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token the cluster accepts, e.g. from kubectl create token <serviceaccount>.' },
      },
      schemas: {
        CreateSetup: jsonSchema(createBodySchema, 'input'),
        SetupList: jsonSchema(setupListSchema),
        SetupDetail: jsonSchema(setupDetailSchema),
        Error: jsonSchema(errorSchema),
      },
    },
  };
}

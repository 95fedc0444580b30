import { badRequest } from './errors.ts';
import type { OperationName, OperationRequest } from './operations.ts';

interface Route {
  method: string;
  /** Path with `{Label}` placeholders, as in the SDK's `http` trait. */
  path: string;
  operation: OperationName;
  /** Older SDKs sent some inputs in the query string; this maps them onto the body the handler reads. */
  bodyFromQuery?: (query: URLSearchParams) => Record<string, unknown>;
}

/** Methods and paths exactly as @aws-sdk/client-sesv2 and the `aws` command line serialize each operation (see their models). */
const ROUTES: Route[] = [
  { method: 'POST', path: '/v2/email/tenants', operation: 'CreateTenant' },
  { method: 'POST', path: '/v2/email/tenants/get', operation: 'GetTenant' },
  { method: 'POST', path: '/v2/email/tenants/delete', operation: 'DeleteTenant' },
  { method: 'POST', path: '/v2/email/tenants/list', operation: 'ListTenants' },
  { method: 'POST', path: '/v2/email/tenants/resources', operation: 'CreateTenantResourceAssociation' },
  { method: 'POST', path: '/v2/email/tenants/resources/delete', operation: 'DeleteTenantResourceAssociation' },
  { method: 'POST', path: '/v2/email/tenants/resources/list', operation: 'ListTenantResources' },
  { method: 'POST', path: '/v2/email/resources/tenants/list', operation: 'ListResourceTenants' },
  { method: 'POST', path: '/v2/email/identities', operation: 'CreateEmailIdentity' },
  { method: 'GET', path: '/v2/email/identities/{EmailIdentity}', operation: 'GetEmailIdentity' },
  { method: 'DELETE', path: '/v2/email/identities/{EmailIdentity}', operation: 'DeleteEmailIdentity' },
  { method: 'PUT', path: '/v2/email/identities/{EmailIdentity}/mail-from', operation: 'PutEmailIdentityMailFromAttributes' },
  { method: 'POST', path: '/v2/email/list-identities', operation: 'ListEmailIdentities' },
  {
    // AWS's published model (the `aws` command line, older SDK releases); the JS SDK now POSTs /v2/email/list-identities.
    method: 'GET',
    path: '/v2/email/identities',
    operation: 'ListEmailIdentities',
    bodyFromQuery: (query) => ({
      NextToken: query.get('NextToken') ?? undefined,
      PageSize: query.has('PageSize') ? Number(query.get('PageSize')) : undefined,
    }),
  },
  { method: 'POST', path: '/v2/email/tags', operation: 'TagResource' },
  { method: 'DELETE', path: '/v2/email/tags', operation: 'UntagResource' },
  { method: 'GET', path: '/v2/email/tags', operation: 'ListTagsForResource' },
];

const COMPILED = ROUTES.map((route) => {
  const labels: string[] = [];
  const source = route.path.replace(/\{(\w+)\}/g, (_, label: string) => {
    labels.push(label);
    return '([^/]+)';
  });
  return { route, labels, pattern: new RegExp(`^${source}$`) };
});

export interface MatchedRoute {
  operation: OperationName;
  labels: Record<string, string>;
  bodyFromQuery?: Route['bodyFromQuery'];
}

/** The operation for a request line, with its path labels percent-decoded; undefined if none. */
export function matchRoute(method: string, pathname: string): MatchedRoute | undefined {
  for (const { route, labels, pattern } of COMPILED) {
    if (route.method !== method) continue;
    const match = pattern.exec(pathname);
    if (!match) continue;
    const values: Record<string, string> = {};
    labels.forEach((label, index) => {
      try {
        values[label] = decodeURIComponent(match[index + 1]!);
      } catch {
        throw badRequest(`Malformed percent-encoding in ${label}`);
      }
    });
    return { operation: route.operation, labels: values, ...(route.bodyFromQuery ? { bodyFromQuery: route.bodyFromQuery } : {}) };
  }
  return undefined;
}

/** The tenant or identity a call is about, for the call log: tenant name first, else the identity or resource. */
export function targetOf(request: OperationRequest): { target?: string; resourceArn?: string } {
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const resourceArn = text(request.body.ResourceArn) ?? text(request.query.get('ResourceArn'));
  const target =
    text(request.body.TenantName) ??
    text(request.labels.EmailIdentity) ??
    text(request.body.EmailIdentity) ??
    (resourceArn ? resourceNameOf(resourceArn) : undefined);
  return { ...(target ? { target } : {}), ...(resourceArn ? { resourceArn } : {}) };
}

/** `identity/<name>` -> name, `tenant/<name>/<id>` -> name. */
export function resourceNameOf(arn: string): string | undefined {
  const resource = /^arn:[^:]*:ses:[^:]*:[^:]*:(identity|tenant)\/(.+)$/.exec(arn);
  if (!resource) return undefined;
  return resource[1] === 'tenant' ? resource[2]!.replace(/\/[^/]*$/, '') : resource[2];
}

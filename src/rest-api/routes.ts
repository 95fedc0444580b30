import type { Permission } from './auth.ts';

export type Method = 'GET' | 'POST' | 'DELETE';
export type RouteName = 'list' | 'create' | 'get' | 'verify' | 'delete' | 'openapi';

export interface Route {
  name: RouteName;
  method: Method;
  /** The path template, as the OpenAPI document and the metrics' route label show it. */
  template: string;
  /** undefined: public (the OpenAPI document). */
  permission?: Permission;
}

const SETUPS = '/v1/{workspace_id}/channels/ses-setup';
const ONE = `${SETUPS}/{setup_id}`;

export const ROUTES: Route[] = [
  { name: 'list', method: 'GET', template: SETUPS, permission: 'Channel.view' },
  { name: 'create', method: 'POST', template: SETUPS, permission: 'Channel.create' },
  { name: 'get', method: 'GET', template: ONE, permission: 'Channel.view' },
  { name: 'delete', method: 'DELETE', template: ONE, permission: 'Channel.delete' },
  // The facade writes the verify annotation as itself: asking for a check needs only the view permission.
  { name: 'verify', method: 'POST', template: `${ONE}/verify`, permission: 'Channel.view' },
  { name: 'openapi', method: 'GET', template: '/openapi.json' },
];

const matchers = [...new Set(ROUTES.map((r) => r.template))].map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{([a-z_]+)\}/g, '(?<$1>[^/]+)')}$`),
}));

export type RouteMatch =
  { kind: 'found'; route: Route; params: Record<string, string> } | { kind: 'wrong-method'; template: string; allowed: Method[] } | { kind: 'none' };

/** Which endpoint a method and path name; path segments arrive percent-decoded. */
export function matchRoute(method: string, path: string): RouteMatch {
  for (const { template, pattern } of matchers) {
    const match = pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(match.groups ?? {})) {
      try {
        params[key] = decodeURIComponent(value);
      } catch {
        params[key] = value; // a broken %-escape: validation names it
      }
    }
    const route = ROUTES.find((r) => r.template === template && r.method === method);
    if (route) return { kind: 'found', route, params };
    return { kind: 'wrong-method', template, allowed: ROUTES.filter((r) => r.template === template).map((r) => r.method) };
  }
  return { kind: 'none' };
}

import { badRequest } from './errors.ts';

/**
 * Pages through items in a stable order. The NextToken names the last key returned (not an
 * offset), so deleting items between pages neither skips nor repeats the ones that remain.
 * It is opaque to clients and bound to the operation that issued it, as SES tokens are.
 */
export function paginate<T>(
  operation: string,
  items: T[],
  keyOf: (item: T) => string,
  pageSize: number,
  nextToken: unknown,
): { page: T[]; nextToken?: string } {
  const sorted = [...items].sort((a, b) => compare(keyOf(a), keyOf(b)));
  const after = nextToken === undefined || nextToken === null ? undefined : decodeToken(operation, nextToken);
  const start = after === undefined ? 0 : sorted.findIndex((item) => compare(keyOf(item), after) > 0);
  const remaining = start < 0 ? [] : sorted.slice(start);
  const page = remaining.slice(0, pageSize);
  if (remaining.length <= pageSize) return { page };
  return { page, nextToken: encodeToken(operation, keyOf(page.at(-1)!)) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeToken(operation: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ op: operation, after: lastKey })).toString('base64url');
}

function decodeToken(operation: string, token: unknown): string {
  try {
    if (typeof token !== 'string' || token.length === 0) throw new Error('not a string');
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { op?: unknown; after?: unknown };
    if (decoded.op === operation && typeof decoded.after === 'string') return decoded.after;
  } catch {
    // fall through to the same answer for every malformed token
  }
  throw badRequest(`Invalid NextToken for ${operation}`);
}

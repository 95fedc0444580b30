import { isDeepStrictEqual } from 'node:util';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * RFC 7386 JSON merge patch turning `before` into `after` (undefined when equal): removed keys
 * become null, arrays are replaced whole. Small patches, and no resourceVersion conflicts.
 */
export function createMergePatch(before: unknown, after: unknown): Json | undefined {
  if (isDeepStrictEqual(before, after)) return undefined;
  if (!isPlainObject(before) || !isPlainObject(after)) return (after ?? null) as Json;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(before)) {
    if (after[key] === undefined && before[key] !== undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const child = createMergePatch(before[key], value);
    if (child !== undefined) patch[key] = child;
  }
  return patch;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

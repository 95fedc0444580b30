import { createHash } from 'node:crypto';

/**
 * The SesSetup name for a tenant name: the tenant name made DNS-1123 safe (lower case, "_" to
 * "-"), plus 8 hex digits of the SHA-256 of the exact tenant name. Deterministic (a repeated
 * create meets its own setup), and "Acme_Prod" and "acme-prod" still get different names.
 */
export function setupNameFor(tenantName: string): string {
  const readable = tenantName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(tenantName).digest('hex').slice(0, 8);
  return `${readable || 'setup'}-${hash}`;
}

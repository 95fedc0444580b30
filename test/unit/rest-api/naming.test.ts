import { describe, expect, it } from 'vitest';
import { OBJECT_NAME_PATTERN } from '../../../src/api/emailusecase.ts';
import { setupNameFor } from '../../../src/rest-api/naming.ts';

describe('setup names from tenant names', () => {
  it('are deterministic, DNS-1123 safe, readable, and tell apart tenant names that read alike', () => {
    expect(setupNameFor('acme_prod')).toBe(setupNameFor('acme_prod'));
    expect(setupNameFor('acme_prod')).toMatch(/^acme-prod-[0-9a-f]{8}$/);
    const alike = ['Acme_Prod', 'acme-prod', 'acme_prod', 'ACME__PROD', '-acme-prod-'].map(setupNameFor);
    expect(new Set(alike).size).toBe(alike.length);
    for (const tenant of [...alike, '_', '---', 'x'.repeat(64), `${'a'.repeat(39)}_b`, '0']) {
      const name = setupNameFor(tenant);
      expect(name).toMatch(new RegExp(OBJECT_NAME_PATTERN));
      expect(name.length).toBeLessThanOrEqual(49);
    }
    expect(setupNameFor('___')).toMatch(/^setup-[0-9a-f]{8}$/);
  });
});

import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

/** Validates real answers against the response schemas of the served OpenAPI document (JSON Schema 2020-12, as OpenAPI 3.1 uses). */
export function responseChecker(document: Record<string, unknown>) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...document, $id: 'api' });
  const paths = document.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  return (template: string, method: string, response: { status: number; body: unknown }) => {
    const declared = paths[template]?.[method.toLowerCase()]?.responses[String(response.status)];
    expect(declared, `${method} ${template} documents status ${response.status}`).toBeDefined();
    const schema = declared!.content?.['application/json']?.schema as { $ref?: string } | undefined;
    if (!schema) return expect(response.body, `${method} ${template} ${response.status} has no body`).toBeUndefined();
    const validate = ajv.compile(schema.$ref ? { $ref: `api${schema.$ref}` } : schema);
    const valid = validate(response.body);
    expect(validate.errors ?? [], `${method} ${template} ${response.status} matches its schema`).toEqual([]);
    expect(valid).toBe(true);
  };
}

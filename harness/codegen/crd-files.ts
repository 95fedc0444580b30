import { stringify } from 'yaml';
import { customResourceDefinitions } from './crds.ts';

const HEADER = '# Generated from src/api by `npm run generate:crds`: edit the zod schemas, not this file.\n';

/** crds/<file name> -> YAML text, exactly as committed. */
export function renderCrdFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const crd of customResourceDefinitions()) {
    const name = (crd.metadata as { name: string }).name;
    files[`${name}.yaml`] = HEADER + stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false });
  }
  return files;
}

import type { SesSetup, SesSetupSpec } from '../../../api/sessetup.ts';
import type { Owner } from '../ses-resources.ts';

/** Who SES resources belong to: this setup's UID, and whether it may take over what it did not create. */
export function ownerOf(setup: SesSetup, spec: SesSetupSpec): Owner {
  return { uid: setup.metadata.uid ?? '', name: setup.metadata.name, adopt: spec.adoptionPolicy === 'Adopt' };
}

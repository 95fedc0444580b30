// Moved to test/support/fakes/; this re-export goes once the SesSetup reconciler tests import from there.
export { MemorySes } from './fakes/ses.ts';

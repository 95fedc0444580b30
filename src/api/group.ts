/** The API group, version and well-known names users and other tools see. */
export const GROUP = 'ses.channels.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const SES_SETUP = { kind: 'SesSetup', plural: 'sessetups', singular: 'sessetup', shortNames: ['ses'] } as const;
export const EMAIL_USE_CASE = { kind: 'EmailUseCase', plural: 'emailusecases', singular: 'emailusecase', shortNames: ['euc'] } as const;
export const CATEGORY = 'channels';

/** Blocks deletion until SES is torn down and no referrer is left. */
export const FINALIZER = `${GROUP}/finalizer`;
/**
 * The region a new setup that names none is pinned to, written with the finalizer before the first
 * SES call (status.region takes over once written): one write instead of two before SES is touched.
 */
export const REGION_ANNOTATION = `${GROUP}/region`;
/** Setting a new value asks for a live check at once; the value is echoed into status.lastHandledVerifyRequest. */
export const VERIFY_ANNOTATION = `${GROUP}/verify-requested-at`;

/** SES tags on every resource the operator creates: proof of ownership (the UID) and a hint for people (the name). */
export const OWNER_UID_TAG = `${GROUP}/owner-uid`;
export const OWNER_NAME_TAG = `${GROUP}/sessetup`;
/**
 * Set to "true" on the tenant and identity of a SesSetup deleted with `deletionPolicy: Retain`: the
 * orphan sweep never deletes a resource that carries it (the owner tags stay, so people can still
 * see which SesSetup created it).
 */
export const RETAINED_TAG = `${GROUP}/retained`;

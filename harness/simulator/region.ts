import { SesApiError } from './errors.ts';

/** What AWS region names look like (us-east-1, ap-southeast-2, us-gov-west-1). */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** `Credential=<access key>/<yyyymmdd>/<region>/<service>/aws4_request` in a SigV4 Authorization header. */
const CREDENTIAL_SCOPE = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/;

/**
 * The region a request was signed for, as SES sees it: the SigV4 credential scope of the
 * `Authorization` header. Unsigned requests (curl, tests) go to `defaultRegion`.
 */
export function requestRegion(authorization: string | undefined, defaultRegion: string): string {
  if (!authorization) return defaultRegion;
  const scope = CREDENTIAL_SCOPE.exec(authorization);
  if (!scope) return defaultRegion;
  const region = scope[1]!;
  if (!REGION_PATTERN.test(region)) {
    // What AWS answers for a scope naming no region; signatures themselves are not checked.
    throw new SesApiError('InvalidSignatureException', 403, `Credential should be scoped to a valid region, not '${region}'.`);
  }
  return region;
}

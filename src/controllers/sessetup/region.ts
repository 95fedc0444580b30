import { REGION_ANNOTATION } from '../../api/group.ts';
import { REGION_PATTERN, type SesSetup } from '../../api/sessetup.ts';

const REGION = new RegExp(REGION_PATTERN);

/**
 * The region a setup lives in. Once the operator has talked to SES for it, that region is
 * recorded in status and wins over everything else: restarting the operator with another
 * --region / AWS_REGION must never move an existing setup (a creation in the new region, a
 * teardown that finds nothing and leaks the old one). Setups written before status.region
 * existed carry their region in the tenant's ARN. Only a setup SES has never seen follows
 * spec.region, else the operator's default (pinned with the finalizer, see REGION_ANNOTATION).
 */
export function pinnedRegion(setup: Pick<SesSetup, 'spec' | 'status' | 'metadata'>, defaultRegion: string): string {
  return recordedRegion(setup) ?? specRegion(setup) ?? defaultRegion;
}

/** The region recorded for the setup's SES resources (status, else the pin written with the finalizer, else the ARNs), if any. */
export function recordedRegion(setup: Pick<SesSetup, 'status' | 'metadata'>): string | undefined {
  const pin = setup.metadata?.annotations?.[REGION_ANNOTATION];
  return (
    setup.status?.region ?? (pin && REGION.test(pin) ? pin : undefined) ?? regionOfArn(setup.status?.tenant?.arn) ?? regionOfArn(setup.status?.identity?.arn)
  );
}

/** spec.region when it is a region at all (a stored object may predate today's schema). */
function specRegion(setup: Pick<SesSetup, 'spec'>): string | undefined {
  const region: unknown = (setup.spec as { region?: unknown } | undefined)?.region;
  return typeof region === 'string' && REGION.test(region) ? region : undefined;
}

/** arn:aws:ses:<region>:<account>:... */
export function regionOfArn(arn: string | undefined): string | undefined {
  const region = arn?.split(':')[3];
  return region && REGION.test(region) ? region : undefined;
}

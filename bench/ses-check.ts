import { desiredRecords } from '../src/dns/desired-records.ts';
import { LiveDnsLookup } from '../src/dns/lookup.ts';
import { lookupRecords } from '../src/dns/verify-records.ts';
import { AwsSesGateway } from '../src/ses/aws-gateway.ts';
import { RateLimiter } from '../src/ses/rate-limiter.ts';
import type { LocalStack } from '../harness/stack/stack.ts';
import type { SimClient } from '../harness/stack/sim-client.ts';
import type { SetupSpec } from './batch.ts';
import { repeat } from './repeat.ts';

/**
 * SES's own DKIM checks, driven by the harness every `intervalMs` from the start of one pass to the
 * start of the next (a pass over thousands of identities takes a while: then the next starts as soon
 * as it ends). The pass starts are kept, so the period SES actually kept is known.
 */
export function driveSesChecks(sim: SimClient, intervalMs: number): { starts: readonly number[]; stop(): Promise<number[]> } {
  const starts: number[] = [];
  const passes = repeat(intervalMs, async () => {
    starts.push(Date.now());
    await sim.dkimCheck().catch(() => {});
  });
  return {
    starts,
    async stop() {
      await passes.stop();
      return starts;
    },
  };
}

/** The longest gap between two pass starts: at worst, SES sees live records this long after they appear. */
export function longestPeriod(starts: readonly number[], intervalMs: number): number {
  let longest = intervalMs;
  for (let i = 1; i < starts.length; i++) longest = Math.max(longest, starts[i]! - starts[i - 1]!);
  return longest;
}

/**
 * What a client must do after SES's check to learn a domain is verified: one GetEmailIdentity and
 * the DNS lookups of its records, timed directly (ms each), as the floor of a setup whose records are
 * already published is SES's check period plus these.
 */
export async function timeVerificationReads(stack: LocalStack, spec: SetupSpec): Promise<{ getMs: number; lookupsMs: number }> {
  const ses = new AwsSesGateway({
    rateLimiter: new RateLimiter({ ratePerSecond: 1e6, burst: 1e6 }),
    endpoint: stack.sesEndpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const dns = new LiveDnsLookup({ servers: [stack.dnsServer] });
  try {
    // A first round loads the SDK and opens the connection; the second is the one timed.
    let identity = await ses.getEmailIdentity(stack.region, spec.domainIdentity);
    let started = Date.now();
    identity = await ses.getEmailIdentity(stack.region, spec.domainIdentity);
    const getMs = Date.now() - started;
    const desired = desiredRecords(spec, stack.region, { tokens: identity?.dkimTokens ?? [], signingHostedZone: identity?.signingHostedZone });
    await lookupRecords(desired, dns);
    started = Date.now();
    await lookupRecords(desired, dns);
    return { getMs, lookupsMs: Date.now() - started };
  } finally {
    ses.destroy();
  }
}

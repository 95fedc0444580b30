import { CreateEmailIdentityCommand, CreateTenantCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { FAKE_AWS_ENV } from '../../harness/stack/local-operator.ts';
import type { Workload } from './workload.ts';

/**
 * An untagged tenant and identity someone else made in SES (in `region`), straight through the SDK: recorded as
 * foreign, so the invariants fail the scenario if anything deletes, tags or associates them.
 */
export async function plantForeign(w: Workload, region = w.env.region): Promise<{ tenant: string; identity: string }> {
  const sdk = new SESv2Client({
    endpoint: w.env.sesEndpoint,
    region,
    credentials: { accessKeyId: FAKE_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  const tags = [{ Key: 'team', Value: 'other' }];
  const tenant = `${w.prefix}_theirs`;
  const identity = `theirs.${w.prefix}.test`;
  try {
    await sdk.send(new CreateTenantCommand({ TenantName: tenant, Tags: tags }));
    await sdk.send(new CreateEmailIdentityCommand({ EmailIdentity: identity, Tags: tags }));
  } finally {
    sdk.destroy();
  }
  w.harnessCalls += 2;
  w.foreign.push({ kind: 'tenant', name: tenant, tags, region }, { kind: 'identity', name: identity, tags, region });
  return { tenant, identity };
}

import { z } from 'zod';
import { conditionsSchema } from './conditions.ts';
import type { ObjectMeta } from './meta.ts';

/** RE2-compatible (the API server's regex engine) and JS-compatible patterns, shared by zod and the CRD. */
export const TENANT_NAME_PATTERN = '^[A-Za-z0-9_-]+$';
const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
/** A lower-case DNS name of at least two labels, each 1..63 characters. */
export const DOMAIN_PATTERN = `^${LABEL}(\\.${LABEL})+$`;
export const REGION_PATTERN = '^[a-z]{2}(-[a-z]+)+-[0-9]+$';
export const MAILTO_PATTERN = '^mailto:[^@\\s;,!]+@[A-Za-z0-9.-]+$';

const immutable = (field: string) => ({
  'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: `${field} is immutable: create a new SesSetup instead` }],
});

export const dmarcSchema = z
  .object({
    policy: z
      .enum(['none', 'quarantine', 'reject'])
      .default('none')
      .meta({ description: 'DMARC policy (p=). AWS advises starting at none, then quarantine, then reject.' }),
    reportingAddress: z
      .string()
      .max(320)
      .regex(new RegExp(MAILTO_PATTERN))
      .optional()
      .meta({ description: 'Where aggregate reports go (rua=), as a mailto: URI.' }),
  })
  .strict()
  .meta({ description: 'The DMARC record the customer is asked to publish at _dmarc.<domain>.' });

export const sesSetupSpecSchema = z
  .object({
    tenantName: z
      .string()
      .min(1)
      .max(64)
      .regex(new RegExp(TENANT_NAME_PATTERN))
      .meta({ description: 'SES tenant name, unique in the AWS account. Immutable.', ...immutable('tenantName') }),
    domainIdentity: z
      .string()
      .min(1)
      .max(253)
      .regex(new RegExp(DOMAIN_PATTERN))
      .meta({ description: 'The sending domain (SES domain identity), lower case. Immutable.', ...immutable('domainIdentity') }),
    region: z
      .string()
      .max(32)
      .regex(new RegExp(REGION_PATTERN))
      .optional()
      .meta({ description: "AWS region; defaults to the operator's region. Immutable.", ...immutable('region') }),
    dmarc: dmarcSchema.optional(),
    deletionPolicy: z
      .enum(['Delete', 'Retain'])
      .default('Delete')
      .meta({ description: 'Delete tears the tenant and identity down in SES; Retain keeps them.' }),
    adoptionPolicy: z
      .enum(['Never', 'Adopt'])
      .default('Never')
      .meta({ description: 'Adopt lets the operator take over a tenant or identity it did not create.' }),
  })
  .strict()
  .meta({
    // Whole-object rule: a transition rule on the optional field alone would miss adding or removing it.
    'x-kubernetes-validations': [
      {
        rule: 'has(self.region) == has(oldSelf.region)',
        message: 'region is immutable: it cannot be added or removed after creation',
        fieldPath: '.region',
      },
    ],
  });

export const dnsRecordSchema = z.object({
  purpose: z.enum(['DKIM', 'MX', 'DMARC']),
  type: z.enum(['CNAME', 'MX', 'TXT']),
  name: z.string(),
  value: z.string(),
  verified: z.boolean(),
  observed: z.array(z.string()).max(16),
  message: z.string(),
});

export const sesSetupStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  region: z.string().optional().meta({
    description:
      "The AWS region the tenant and identity were created in, recorded at the first call to SES. Every later call and the teardown use it, whatever the operator's default region is now.",
  }),
  tenant: z
    .object({
      name: z.string(),
      id: z.string().optional(),
      arn: z.string().optional(),
      sendingStatus: z.string().optional(),
      adopted: z.boolean().optional(),
    })
    .optional(),
  identity: z
    .object({
      name: z.string(),
      arn: z.string().optional(),
      dkimStatus: z.string().optional(),
      verificationStatus: z.string().optional(),
      verifiedForSending: z.boolean().optional(),
      dkimTokens: z.array(z.string()).max(8).optional(),
      signingHostedZone: z.string().optional(),
      tenantAssociated: z.boolean().optional(),
      adopted: z.boolean().optional(),
    })
    .optional(),
  dnsRecords: z.array(dnsRecordSchema).max(16).optional(),
  dnsVerified: z.boolean().optional(),
  dnsCheckedAt: z.string().meta({ format: 'date-time' }).optional(),
  lastHandledVerifyRequest: z.string().optional(),
  usedBy: z.array(z.string()).max(20).optional(),
  usedByCount: z.number().int().optional(),
  conditions: conditionsSchema.optional(),
});

export type SesSetupSpec = z.infer<typeof sesSetupSpecSchema>;
export type SesSetupStatus = z.infer<typeof sesSetupStatusSchema>;
export type DnsRecord = z.infer<typeof dnsRecordSchema>;

export interface SesSetup {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: SesSetupSpec;
  status?: SesSetupStatus;
}

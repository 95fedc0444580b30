import { z } from 'zod';
import { DOMAIN_PATTERN, dnsRecordSchema, TENANT_NAME_PATTERN } from '../api/sessetup.ts';

/**
 * The REST API's requests and answers, as the original Channels API documents them (field names in
 * snake_case). One zod schema per shape: requests are validated with it, and the OpenAPI document
 * is generated from it, so the two cannot drift apart.
 */

export const MAX_PAGE_SIZE = 20;
export const DEFAULT_PAGE_SIZE = 10;

/** Any 8-4-4-4-12 hex UUID, as the original accepts (not only RFC 9562 versions). */
const uuid = (description: string) => z.guid({ error: 'must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6' }).meta({ description });

export const workspacePathSchema = z.object({ workspace_id: uuid('Workspace of the caller; setups are shared platform-wide.') });
export const setupPathSchema = workspacePathSchema.extend({ setup_id: uuid('The setup id (the SesSetup UID).') });

/** A query integer: digits only ("1.5", "", "1e1", " 3" are refused), then bounds. */
const queryInteger = (min: number, max: number | undefined, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number${max === undefined ? ` >= ${min}` : ` from ${min} to ${max}`}`)
    .transform(Number)
    .pipe(max === undefined ? z.number().min(min, `must be >= ${min}`) : z.number().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`))
    .optional()
    .transform((value) => value ?? fallback);

export const listQuerySchema = z.object({
  limit: queryInteger(1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
  continuation_token: queryInteger(0, undefined, 0),
});

export const createBodySchema = z.object({
  tenant_name: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .regex(new RegExp(TENANT_NAME_PATTERN), 'may contain only A-Z, a-z, 0-9, _ and -')
    .meta({
      description: 'Logical SES tenant name (reputation + suppression isolation boundary). Unique within the AWS account. Alphabet [A-Za-z0-9_-], 1-64 chars.',
    }),
  domain_identity: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(253, 'must be at most 253 characters (the longest DNS name)')
    .toLowerCase()
    .regex(new RegExp(DOMAIN_PATTERN), 'must be a DNS name of at least two labels, e.g. mail.customer.com')
    .meta({ description: 'Domain to verify for both sending and receiving (e.g. mail.customer.com); compared and stored in lower case.' }),
});
export type CreateBody = z.infer<typeof createBodySchema>;

const timestamp = z.string().meta({ format: 'date-time' });

/** A record of status.dnsRecords as the API shows it (without what DNS answered). */
export const dnsRecordViewSchema = dnsRecordSchema.omit({ observed: true }).extend({
  message: z.string().meta({ description: 'Why the record is not verified, in words; empty when verified.' }),
});

export const setupSummarySchema = z.object({
  id: z.string().meta({ description: 'The setup id (the SesSetup UID).', format: 'uuid' }),
  name: z.string().meta({ description: 'The SesSetup name (kubectl get ses <name>).' }),
  tenant_name: z.string(),
  domain_identity: z.string(),
  dns_verified: z.boolean().meta({ description: 'Every DNS record verified at the last check (cached).' }),
  dns_checked_at: timestamp.nullable().meta({ description: 'Time of the last live check; null before the first.' }),
  created_at: timestamp,
  updated_at: timestamp.meta({ description: 'Latest of creation, last check and last condition change.' }),
  ready: z.boolean().meta({ description: 'The SesSetup is Ready: tenant and identity exist and every record is verified.' }),
  deleting: z.boolean().meta({ description: 'Deletion was asked for; teardown runs behind the finalizer.' }),
});

export const setupDetailSchema = setupSummarySchema.extend({
  dns_records: z.array(dnsRecordViewSchema).meta({ description: 'The records to publish, each with its verified flag and message.' }),
  refreshed: z.boolean().meta({ description: 'True when this answer carries the live check this request asked for (or, on create, the records).' }),
  notice: z.string().nullable().meta({ description: 'Why an older result (or no records yet) is returned; null when refreshed.' }),
});

export const setupListSchema = z.object({
  items: z.array(setupSummarySchema),
  has_more: z.boolean(),
  continuation_token: z.number().int().nullable().meta({ description: 'Pass as continuation_token for the next page; null on the last page.' }),
  total: z.number().int().meta({ description: 'Setups on the platform.' }),
});

export const errorSchema = z.object({
  error: z.object({
    status: z.number().int(),
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. validation_failed, setup_in_use.' }),
    message: z.string(),
    fields: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'validation_failed: each bad field (body field, query parameter or path parameter) and what is wrong.' }),
    referrers: z.array(z.string()).optional().meta({ description: 'setup_in_use: the use cases that reference the setup.' }),
    permission: z.string().optional().meta({ description: 'forbidden: the missing permission (Channel.view, Channel.create, Channel.delete).' }),
  }),
});

export type SetupSummary = z.infer<typeof setupSummarySchema>;
export type SetupDetail = z.infer<typeof setupDetailSchema>;
export type SetupList = z.infer<typeof setupListSchema>;
export type ErrorBody = z.infer<typeof errorSchema>;
export type DnsRecordView = z.infer<typeof dnsRecordViewSchema>;

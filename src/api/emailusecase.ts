import { z } from 'zod';
import type { CustomResource } from './meta.ts';
import { statusSchema } from './status.ts';

/** A DNS-1123 subdomain: what a SesSetup's metadata.name can be. */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** local@domain, kept simple on purpose: the domain part is checked against the setup by the controller. */
export const EMAIL_PATTERN = '^[^@\\s]+@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$';

export const emailUseCaseSpecSchema = z
  .object({
    sesSetupRef: z
      .object({
        name: z.string().min(1).max(253).regex(new RegExp(OBJECT_NAME_PATTERN)).meta({ description: 'Name of the SesSetup (cluster-scoped).' }),
      })
      .strict()
      .meta({ description: "The SesSetup this use case sends through; that setup's deletion waits while this use case exists." }),
    fromAddress: z
      .string()
      .min(3)
      .max(320)
      .regex(new RegExp(EMAIL_PATTERN))
      .meta({ description: "The sender address; its domain must be the setup's domainIdentity or a subdomain of it." }),
    configMapName: z.string().min(1).max(253).regex(new RegExp(OBJECT_NAME_PATTERN)).optional().meta({
      description:
        'Name of the ConfigMap in this namespace that the operator keeps with what an app needs to send (region, tenant, identity ARN, from address, ready). Default: <use case name>-ses.',
    }),
  })
  .strict()
  .meta({ description: 'Which SesSetup this use case sends through, and from which address.' });

export const emailUseCaseStatusSchema = statusSchema({
  description: 'Written by the operator only.',
  conditions:
    'Ready (True when the setup exists, is Ready, and fromAddress lies in its domain), ConfigMapReady, and Reconciling / Stalled (present only while true).',
  fields: {},
});

export type EmailUseCaseSpec = z.infer<typeof emailUseCaseSpecSchema>;
export type EmailUseCaseStatus = z.infer<typeof emailUseCaseStatusSchema>;

export type EmailUseCase = CustomResource<EmailUseCaseSpec, EmailUseCaseStatus>;

import { z } from 'zod';
import type { CustomResource } from './meta.ts';
import { labelSelectorSchema } from './label-selector.ts';
import { statusSchema } from './status.ts';

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

/** Which namespaces' EmailUseCases (and referrers) may use a SesSetup: the Gateway API's allowedRoutes.namespaces, without Same. */
export const allowedNamespacesSchema = z
  .object({
    from: z.enum(['All', 'Selector']).default('All').meta({
      description:
        'All (default): EmailUseCases in every namespace may use this SesSetup. Selector: only those in namespaces whose labels match selector; the others are Ready=False (NamespaceNotAllowed) and neither count as users nor hold its deletion.',
    }),
    selector: labelSelectorSchema.optional().meta({
      description:
        'The namespaces allowed when from is Selector, by their labels (every namespace carries kubernetes.io/metadata.name=<its name>). Required with Selector, not allowed with All.',
    }),
  })
  .strict()
  .meta({
    description: 'Which namespaces may reference this SesSetup. Changes take effect at once, for use cases that exist already too.',
    'x-kubernetes-validations': [
      {
        rule: "self.from == 'Selector' ? has(self.selector) : !has(self.selector)",
        message: 'selector is required when from is Selector, and not allowed otherwise',
      },
    ],
  });

export const mailFromSchema = z
  .object({
    domain: z.string().min(1).max(253).regex(new RegExp(DOMAIN_PATTERN)).meta({
      description:
        'The custom MAIL FROM domain (bounce and SPF domain), a subdomain of domainIdentity not used to receive mail, lower case, e.g. bounce.mail.acme.com.',
    }),
    behaviorOnMxFailure: z.enum(['UseDefaultValue', 'RejectMessage']).default('UseDefaultValue').meta({
      description:
        "While SES cannot confirm the MAIL FROM domain's MX record: UseDefaultValue (default) sends with SES's own amazonses.com MAIL FROM; RejectMessage refuses to send.",
    }),
  })
  .strict()
  .meta({
    description:
      'A custom MAIL FROM domain for SPF alignment under DMARC: the operator sets it in SES and asks for its MX and SPF TXT records. Removing it resets SES to its default MAIL FROM.',
  });

export const sesSetupSpecSchema = z
  .object({
    tenantName: z
      .string()
      .min(1)
      .max(64)
      .regex(new RegExp(TENANT_NAME_PATTERN))
      .meta({
        description:
          'SES tenant name (the reputation and suppression isolation boundary), unique in the AWS account: letters, digits, _ and -, 1 to 64 characters. Immutable.',
        ...immutable('tenantName'),
      }),
    domainIdentity: z
      .string()
      .min(1)
      .max(253)
      .regex(new RegExp(DOMAIN_PATTERN))
      .meta({
        description: 'The domain to verify for sending and receiving (one SES domain identity serves both), lower case, e.g. mail.acme.com. Immutable.',
        ...immutable('domainIdentity'),
      }),
    region: z
      .string()
      .max(32)
      .regex(new RegExp(REGION_PATTERN))
      .optional()
      .meta({ description: "AWS region; defaults to the operator's region. Immutable.", ...immutable('region') }),
    dmarc: dmarcSchema.optional(),
    mailFrom: mailFromSchema.optional(),
    deletionPolicy: z
      .enum(['Delete', 'Retain'])
      .default('Delete')
      .meta({ description: 'On deletion of this SesSetup: Delete (default) tears the identity and tenant down in SES; Retain keeps both in SES.' }),
    dnsPublication: z.enum(['Manual', 'ExternalDNS']).default('Manual').meta({
      description:
        "Manual (default): you publish status.dnsRecords at your DNS host. ExternalDNS: the operator keeps a DNSEndpoint (externaldns.k8s.io/v1alpha1) with every record, named after this SesSetup in the operator's --dns-endpoint-namespace, for a running external-dns to publish.",
    }),
    adoptionPolicy: z.enum(['Never', 'Adopt']).default('Never').meta({
      description:
        "Never (default): a tenant or identity that exists in SES without this SesSetup's owner tag is left alone and reported. Adopt: the operator tags it as this SesSetup's and manages it (and deletes it under deletionPolicy Delete).",
    }),
    allowedNamespaces: allowedNamespacesSchema.optional(),
  })
  .strict()
  // The CEL rule below says the same to the API server; this keeps the operator's own parse as strict.
  .refine((spec) => !spec.mailFrom || spec.mailFrom.domain.endsWith(`.${spec.domainIdentity}`), {
    path: ['mailFrom', 'domain'],
    message: 'mailFrom.domain must be a subdomain of domainIdentity',
  })
  .meta({
    description: 'The SES tenant and domain identity this SesSetup makes exist, and the DNS records asked of the customer.',
    // Whole-object rule: a transition rule on the optional field alone would miss adding or removing it.
    'x-kubernetes-validations': [
      {
        rule: 'has(self.region) == has(oldSelf.region)',
        message: 'region is immutable: it cannot be added or removed after creation',
        fieldPath: '.region',
      },
      {
        rule: "!has(self.mailFrom) || self.mailFrom.domain.endsWith('.' + self.domainIdentity)",
        message: 'mailFrom.domain must be a subdomain of domainIdentity (e.g. bounce.<domainIdentity>)',
        fieldPath: '.mailFrom.domain',
      },
    ],
  });

export const dnsRecordSchema = z.object({
  purpose: z.enum(['DKIM', 'MX', 'DMARC', 'MAIL_FROM']).meta({
    description: 'DKIM (one of the Easy DKIM CNAMEs), MX (receiving through SES), DMARC, or MAIL_FROM (the MX and the SPF TXT of spec.mailFrom.domain).',
  }),
  type: z.enum(['CNAME', 'MX', 'TXT']).meta({ description: 'DNS record type: CNAME, MX or TXT.' }),
  name: z.string().meta({ description: 'Fully qualified record name, without the trailing dot.' }),
  value: z.string().meta({ description: 'What the record must hold: the CNAME target, "<preference> <host>" for MX, the TXT text.' }),
  verified: z.boolean().meta({
    description:
      'True when the last live check found the record right. DKIM also needs SES to report DKIM SUCCESS, MAIL_FROM SES to report the MAIL FROM domain SUCCESS; MX needs the SES host to hold the lowest preference value alone.',
  }),
  published: z.boolean().optional().meta({
    description: 'With dnsPublication ExternalDNS: true when the record is in the DNSEndpoint handed to external-dns (verified still means DNS answers it).',
  }),
  observed: z.array(z.string()).max(16).meta({ description: 'What DNS answered at the last check (at most 16 answers; MX as "<preference> <host>").' }),
  message: z
    .string()
    .meta({ description: 'Empty when verified; otherwise why not and what to do, e.g. NXDOMAIN, a wrong target and what was found, SES still PENDING.' }),
});

const adopted = (what: string) => `True when the operator took over an existing ${what} under adoptionPolicy Adopt (tagging it as this SesSetup's).`;

export const sesSetupStatusSchema = statusSchema({
  description: 'What the operator observed and did; written by the operator only.',
  conditions:
    'Ready, TenantReady, IdentityReady, DnsVerified, DnsPublished (only with dnsPublication ExternalDNS), MailFromReady (only with spec.mailFrom), DeletionBlocked (only while a deletion waits), and Reconciling / Stalled (kstatus: present only while true).',
  fields: {
    region: z.string().optional().meta({
      description:
        "The AWS region the tenant and identity were created in, recorded at the first call to SES. Every later call and the teardown use it, whatever the operator's default region is now.",
    }),
    tenant: z
      .object({
        name: z.string().meta({ description: 'The SES tenant name.' }),
        id: z.string().optional().meta({ description: 'The tenant ID SES assigned.' }),
        arn: z.string().optional().meta({ description: 'The tenant ARN; its presence means the tenant exists and belongs to this SesSetup.' }),
        sendingStatus: z.string().optional().meta({ description: "The tenant's sending status as SES reported it (ENABLED, REINSTATED or DISABLED)." }),
        adopted: z
          .boolean()
          .optional()
          .meta({ description: adopted('tenant') }),
      })
      .optional()
      .meta({ description: 'The SES tenant, as the operator created or adopted it.' }),
    identity: z
      .object({
        name: z.string().meta({ description: 'The SES domain identity (spec.domainIdentity).' }),
        arn: z.string().optional().meta({ description: "The identity ARN (SES does not return it: built from the tenant ARN's account and region)." }),
        dkimStatus: z
          .string()
          .optional()
          .meta({ description: "SES's DKIM status (PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE, NOT_STARTED) at the operator's last read." }),
        verificationStatus: z.string().optional().meta({ description: "SES's verification status of the identity, same values as dkimStatus." }),
        verifiedForSending: z.boolean().optional().meta({ description: 'SES says the identity may send.' }),
        dkimTokens: z.array(z.string()).max(8).optional().meta({ description: 'The Easy DKIM tokens SES issued: one DKIM CNAME record each.' }),
        signingHostedZone: z
          .string()
          .optional()
          .meta({ description: 'The zone the DKIM CNAMEs point into (<token>.<zone>); dkim.amazonses.com when SES names none.' }),
        tenantAssociated: z.boolean().optional().meta({ description: 'True once the identity is associated with the tenant.' }),
        adopted: z
          .boolean()
          .optional()
          .meta({ description: adopted('identity') }),
      })
      .optional()
      .meta({ description: 'The SES domain identity, as the operator created or adopted it.' }),
    mailFrom: z
      .object({
        domain: z.string().meta({ description: 'The custom MAIL FROM domain set in SES.' }),
        behaviorOnMxFailure: z.string().meta({ description: 'The behaviorOnMxFailure set in SES with it (UseDefaultValue or RejectMessage).' }),
        status: z
          .string()
          .optional()
          .meta({ description: "SES's MailFromDomainStatus (PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE) at the operator's last read; absent until read." }),
      })
      .optional()
      .meta({ description: 'The custom MAIL FROM domain as the operator last set it in SES (spec.mailFrom); absent when none is set.' }),
    dnsRecords: z
      .array(dnsRecordSchema)
      .max(16)
      .optional()
      .meta({ description: 'Exactly the records to publish at your DNS host, ready to copy, each with the result of the last live check.' }),
    dnsVerified: z.boolean().optional().meta({ description: 'True when every record in dnsRecords is verified (the DNS-VERIFIED column).' }),
    dnsCheckedAt: z.string().optional().meta({
      format: 'date-time',
      description:
        'Time of the last live DNS check that changed a result, was asked for, or ran while a record was unverified (at most every 10 s when it finds nothing new; a check of a verified setup that finds nothing new writes nothing).',
    }),
    lastHandledVerifyRequest: z
      .string()
      .optional()
      .meta({ description: 'The value of the ses.channels.dev/verify-requested-at annotation whose check is in this status.' }),
    usedBy: z
      .array(z.string())
      .max(20)
      .optional()
      .meta({ description: 'What references this SesSetup ("EmailUseCase namespace/name", or a configured referrer kind), at most 20, sorted.' }),
    usedByCount: z.number().int().optional().meta({ description: 'The exact number of referrers (usedBy shows at most 20).' }),
  },
});

export type SesSetupSpec = z.infer<typeof sesSetupSpecSchema>;
export type AllowedNamespaces = z.infer<typeof allowedNamespacesSchema>;
export type SesSetupStatus = z.infer<typeof sesSetupStatusSchema>;
export type DnsRecord = z.infer<typeof dnsRecordSchema>;

export type SesSetup = CustomResource<SesSetupSpec, SesSetupStatus>;

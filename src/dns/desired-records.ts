import type { SesSetupSpec } from '../api/sessetup.ts';

export interface DesiredRecord {
  purpose: 'DKIM' | 'MX' | 'DMARC' | 'MAIL_FROM';
  type: 'CNAME' | 'MX' | 'TXT';
  name: string;
  value: string;
}

/** SES's Easy DKIM zone, used when GetEmailIdentity does not name a SigningHostedZone. */
export const DEFAULT_SIGNING_ZONE = 'dkim.amazonses.com';

/** The SPF record SES asks for at a custom MAIL FROM domain. */
export const MAIL_FROM_SPF = 'v=spf1 include:amazonses.com ~all';

/**
 * The records a customer must publish for a domain identity, exactly as they should appear in DNS:
 * with spec.mailFrom, its MX and SPF TXT last (both purpose MAIL_FROM), so the others keep their places.
 */
export function desiredRecords(
  spec: Pick<SesSetupSpec, 'domainIdentity' | 'dmarc' | 'mailFrom'>,
  region: string,
  dkim: { tokens: string[]; signingHostedZone?: string },
): DesiredRecord[] {
  const domain = spec.domainIdentity;
  const zone = dkim.signingHostedZone || DEFAULT_SIGNING_ZONE;
  return [
    ...dkim.tokens.map((token) => ({
      purpose: 'DKIM' as const,
      type: 'CNAME' as const,
      name: `${token}._domainkey.${domain}`,
      value: `${token}.${zone}`,
    })),
    { purpose: 'MX', type: 'MX', name: domain, value: `10 ${inboundSmtpHost(region)}` },
    { purpose: 'DMARC', type: 'TXT', name: `_dmarc.${domain}`, value: dmarcValue(spec.dmarc) },
    ...(spec.mailFrom ? mailFromRecords(spec.mailFrom.domain, region) : []),
  ];
}

/** A custom MAIL FROM domain's records: the MX that takes bounces and complaints, and the SPF TXT. */
function mailFromRecords(mailFromDomain: string, region: string): DesiredRecord[] {
  return [
    { purpose: 'MAIL_FROM', type: 'MX', name: mailFromDomain, value: `10 ${feedbackSmtpHost(region)}` },
    { purpose: 'MAIL_FROM', type: 'TXT', name: mailFromDomain, value: MAIL_FROM_SPF },
  ];
}

export function feedbackSmtpHost(region: string): string {
  return `feedback-smtp.${region}.amazonses.com`;
}

export function inboundSmtpHost(region: string): string {
  return `inbound-smtp.${region}.amazonaws.com`;
}

export function dmarcValue(dmarc: SesSetupSpec['dmarc']): string {
  const rua = dmarc?.reportingAddress ? ` rua=${dmarc.reportingAddress};` : '';
  return `v=DMARC1; p=${dmarc?.policy ?? 'none'};${rua}`;
}

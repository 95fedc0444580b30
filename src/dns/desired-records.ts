import type { SesSetupSpec } from '../api/sessetup.ts';

export interface DesiredRecord {
  purpose: 'DKIM' | 'MX' | 'DMARC';
  type: 'CNAME' | 'MX' | 'TXT';
  name: string;
  value: string;
}

/** SES's Easy DKIM zone, used when GetEmailIdentity does not name a SigningHostedZone. */
export const DEFAULT_SIGNING_ZONE = 'dkim.amazonses.com';

/** The records a customer must publish for a domain identity, exactly as they should appear in DNS. */
export function desiredRecords(
  spec: Pick<SesSetupSpec, 'domainIdentity' | 'dmarc'>,
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
  ];
}

export function inboundSmtpHost(region: string): string {
  return `inbound-smtp.${region}.amazonaws.com`;
}

export function dmarcValue(dmarc: SesSetupSpec['dmarc']): string {
  const rua = dmarc?.reportingAddress ? ` rua=${dmarc.reportingAddress};` : '';
  return `v=DMARC1; p=${dmarc?.policy ?? 'none'};${rua}`;
}

import { describe, expect, it } from 'vitest';
import { SesApiError } from '../../../harness/simulator/errors.ts';
import { requestRegion } from '../../../harness/simulator/region.ts';

describe('requestRegion: the region of the SigV4 credential scope', () => {
  const signed = (region: string) =>
    `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/${region}/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`;

  it.each(['eu-west-1', 'ap-southeast-2', 'us-gov-west-1'])('reads %s', (region) => expect(requestRegion(signed(region), 'us-east-1')).toBe(region));

  it('falls back to the default without a header or a credential scope', () => {
    expect(requestRegion(undefined, 'us-east-1')).toBe('us-east-1');
    expect(requestRegion('Bearer token', 'sa-east-1')).toBe('sa-east-1');
  });

  it('refuses a scope naming no region with 403 InvalidSignatureException', () => {
    expect(() => requestRegion(signed('EU_WEST'), 'us-east-1')).toThrow(SesApiError);
    expect(() => requestRegion(signed('EU_WEST'), 'us-east-1')).toThrow(/valid region, not 'EU_WEST'/);
  });
});

import { randomBytes } from 'node:crypto';

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Random lower-case letters and digits, unbiased (bytes past the last multiple of 36 are redrawn). */
export function randomLowerAlnum(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 252) continue;
      out += LOWER_ALNUM[byte % 36];
      if (out.length === length) break;
    }
  }
  return out;
}

/** An Easy DKIM token: 32 lower-case letters and digits, like the ones SES issues. */
export function dkimToken(): string {
  return randomLowerAlnum(32);
}

/** A tenant id in the documented `tn-...` shape. */
export function tenantId(): string {
  return `tn-${randomBytes(12).toString('hex')}`;
}

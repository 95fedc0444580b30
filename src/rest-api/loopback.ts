import { parseBindAddress } from '../runtime/http-endpoints.ts';

/** True for addresses only this machine can reach: plain HTTP is allowed there and nowhere else. */
export function isLoopback(host: string | undefined): boolean {
  if (!host) return false;
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** "127.0.0.1:8443", "[::1]:0", "localhost:80": true; ":8443", "0.0.0.0:8443", "10.0.0.5:8443": false. */
export function isLoopbackBindAddress(bindAddress: string): boolean {
  try {
    return isLoopback(parseBindAddress(bindAddress).host);
  } catch {
    return false;
  }
}

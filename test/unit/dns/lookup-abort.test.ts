import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountingDnsLookup } from '../../../src/dns/counting-lookup.ts';
import { LiveDnsLookup } from '../../../src/dns/lookup.ts';

/** A resolver that receives queries and never answers. */
let socket: dgram.Socket;
let queries: number;
let server: string;
beforeEach(async () => {
  queries = 0;
  socket = dgram.createSocket('udp4');
  socket.on('message', () => queries++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  server = `127.0.0.1:${(socket.address() as AddressInfo).port}`;
});
afterEach(() => new Promise<void>((resolve) => socket.close(() => resolve())));

describe('LiveDnsLookup: an aborted signal ends the lookup', () => {
  it('rejects a lookup waiting on a silent resolver with the signal reason, long before its timeout', async () => {
    const dns = new CountingDnsLookup(new LiveDnsLookup({ servers: [server], timeoutMs: 30_000, tries: 1 }), () => {});
    const abort = new AbortController();
    const reason = new Error('reconcile given up');
    const lookup = dns.lookup('TXT', '_dmarc.example.test', { signal: abort.signal });
    await vi.waitFor(() => expect(queries).toBeGreaterThan(0));
    const started = performance.now();
    abort.abort(reason);
    await expect(lookup).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('leaves other lookups of the same resolver alone', async () => {
    const dns = new LiveDnsLookup({ servers: [server], timeoutMs: 300, tries: 1 });
    const abort = new AbortController();
    const aborted = dns.lookup('CNAME', 'a.example.test', { signal: abort.signal });
    const other = dns.lookup('CNAME', 'b.example.test');
    await vi.waitFor(() => expect(queries).toBe(2));
    abort.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(await other).toMatchObject({ ok: false, failure: 'TIMEOUT' });
  });

  it('does not start a lookup whose signal is already aborted', async () => {
    const dns = new LiveDnsLookup({ servers: [server] });
    await expect(dns.lookup('MX', 'example.test', { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    expect(queries).toBe(0);
  });
});

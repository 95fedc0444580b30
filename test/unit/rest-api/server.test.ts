import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SesSetup } from '../../../src/api/sessetup.ts';
import { silentLogger } from '../../../src/runtime/logger.ts';
import { Channels } from '../../../src/rest-api/channels.ts';
import { startRestApi, type RestApiServer } from '../../../src/rest-api/server.ts';
import { SetupCache } from '../../../src/rest-api/setup-cache.ts';

const run = promisify(execFile);
let dir: string;

async function certificate(name: string): Promise<{ certFile: string; keyFile: string }> {
  const [certFile, keyFile] = [join(dir, `${name}.crt`), join(dir, `${name}.key`)];
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}

/** SHA-256 of the certificate the server presents to a new connection. */
function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(createHash('sha256').update(raw).digest('hex'));
    });
    socket.on('error', reject);
  });
}

describe('REST API server', () => {
  let api: RestApiServer;
  let synced = false;
  const live = { certFile: '', keyFile: '' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rest-api-server-'));
    const first = await certificate('first');
    [live.certFile, live.keyFile] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
    await copyFile(first.certFile, live.certFile);
    await copyFile(first.keyFile, live.keyFile);
    const cache = new SetupCache({ get: () => undefined as SesSetup | undefined, hasSynced: () => synced, addEventHandler: () => () => {} });
    const kc = { getCurrentCluster: () => null, applyToHTTPSOptions: async () => {} };
    api = await startRestApi({
      bindAddress: '127.0.0.1:0',
      tls: live,
      channels: new Channels({ kc, cache, referrers: () => [], refreshTimeoutMs: 100 }),
      auth: { authenticate: async () => ({ username: 'someone' }), missingVerbs: async () => [] },
      ready: () => cache.synced(),
      logger: silentLogger,
      version: 'test',
    });
  });

  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes a renewed certificate from its files without a restart', async () => {
    const before = await servedFingerprint(api.url);
    expect(await api.reloadTls()).toBe(false); // unchanged files: nothing to do
    const second = await certificate('second');
    await copyFile(second.certFile, live.certFile);
    await copyFile(second.keyFile, live.keyFile);
    expect(await api.reloadTls()).toBe(true);
    const after = await servedFingerprint(api.url);
    expect(after).not.toBe(before);
  });

  it('answers 503 with Retry-After until the cache is synced', async () => {
    // Over the raw TLS socket: the certificate is self-signed.
    const status = await new Promise<string>((resolve, reject) => {
      const { hostname, port } = new URL(api.url);
      const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () =>
        socket.write('GET /v1/3fa85f64-5717-4562-b3fc-2c963f66afa6/channels/ses-setup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(status).toMatch(/^HTTP\/1\.1 503/);
    expect(status).toMatch(/retry-after: 2/i);
    expect(status).toContain('"code":"not_ready"');
    synced = true;
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../harness/stack/go-binaries.ts';
import { requestJson, setUserAgent } from '../../../src/runtime/kube-http.ts';
import { OPERATOR_VERSION } from '../../../src/runtime/version.ts';
import { loopbackKube, startLoopbackHttp, type LoopbackHttp } from '../../support/loopback-http.ts';

describe('kube-http requests with a body', () => {
  let server: LoopbackHttp | undefined;
  afterEach(() => server?.close());

  it('send a DELETE body with its length, so the server reads it and the keep-alive connection stays usable', async () => {
    const seen: { method: string; length: string | undefined; body: string }[] = [];
    server = await startLoopbackHttp((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', length: request.headers['content-length'], body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const kc = loopbackKube(server.url);
    const options = { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'u-1' } };
    await requestJson(kc, 'DELETE', '/apis/externaldns.k8s.io/v1alpha1/namespaces/n/dnsendpoints/a', { body: options });
    // The next request reuses the connection: without a length the body's bytes would open it (400).
    const patch = [{ op: 'remove', path: '/metadata/finalizers/0' }];
    await requestJson(kc, 'PATCH', '/apis/ses.channels.dev/v1alpha1/sessetups/a', { body: patch });
    expect(seen).toEqual([
      { method: 'DELETE', length: String(JSON.stringify(options).length), body: JSON.stringify(options) },
      { method: 'PATCH', length: String(JSON.stringify(patch).length), body: JSON.stringify(patch) },
    ]);
  });
});

describe('kube-http names its program', () => {
  let server: LoopbackHttp | undefined;
  afterEach(() => {
    server?.close();
    setUserAgent('ses-operator');
  });

  it('sends ses-operator/<version> as User-Agent (the field manager of its writes), or the program set', async () => {
    const agents: (string | undefined)[] = [];
    server = await startLoopbackHttp((request, response) => {
      agents.push(request.headers['user-agent']);
      request.resume().on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    const kc = loopbackKube(server.url);
    await requestJson(kc, 'GET', '/api/v1/namespaces/a');
    setUserAgent('kubectl-ses');
    await requestJson(kc, 'GET', '/api/v1/namespaces/a');
    expect(agents).toEqual([`ses-operator/${OPERATOR_VERSION}`, `kubectl-ses/${OPERATOR_VERSION}`]);
  });

  it('carries the version package.json declares', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(OPERATOR_VERSION).toBe(pkg.version);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { requestJson } from '../../../src/runtime/kube-http.ts';
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

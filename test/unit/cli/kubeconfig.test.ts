import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../src/cli/kubeconfig.ts';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function httpsOptions(path: string): Promise<https.RequestOptions> {
  const kc = await loadKubeConfig(path);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return options;
}

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n');

describe('loadKubeConfig', () => {
  it('reads the current context of a kubectl-written file: server, CA data, token', async () => {
    const path = await write(
      'config',
      `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443
- name: dev
  cluster:
    certificate-authority-data: ${CA.toString('base64')}
    server: "https://127.0.0.1:6443"
contexts:
- context: {cluster: prod, user: prod}
  name: prod
- context:
    cluster: dev
    user: dev-admin
  name: dev
users:
- name: dev-admin
  user:
    token: 's3cret'   # a comment
`,
    );
    const kc = await loadKubeConfig(path);
    expect(kc).not.toBeInstanceOf(KubeConfig);
    expect(kc.getCurrentCluster()).toEqual({ server: 'https://127.0.0.1:6443' });
    const options = await httpsOptions(path);
    expect(options.ca).toEqual(CA);
    expect(options.headers).toEqual({ authorization: 'Bearer s3cret' });
    expect(options.rejectUnauthorized).toBeUndefined();
  });

  it('reads YAML the old hand-written subset could not: anchors, block scalars, YAML 1.2 booleans', async () => {
    const path = await write(
      'config',
      `current-context: c
clusters:
- name: &name local
  cluster:
    server: >-
      http://127.0.0.1:8080
    insecure-skip-tls-verify: true
contexts: [{ name: c, context: { cluster: *name, user: u } }]
users:
- name: u
  user:
    token: |-
      abc
`,
    );
    const kc = await loadKubeConfig(path);
    expect(kc).not.toBeInstanceOf(KubeConfig);
    expect(kc.getCurrentCluster()?.server).toBe('http://127.0.0.1:8080');
    const options = await httpsOptions(path);
    expect(options.rejectUnauthorized).toBe(false);
    expect(options.headers).toEqual({ authorization: 'Bearer abc' });
  });

  it('reads a JSON kubeconfig, and resolves certificate and token files against its directory', async () => {
    await writeFile(join(dir, 'ca.crt'), CA);
    await writeFile(join(dir, 'token'), 'from-file\n');
    const path = await write(
      'config.json',
      JSON.stringify({
        'current-context': 'c',
        clusters: [{ name: 'k', cluster: { server: 'https://k.example', 'certificate-authority': 'ca.crt', 'tls-server-name': 'kubernetes' } }],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
        users: [{ name: 'u', user: { tokenFile: 'token' } }],
      }),
    );
    const options = await httpsOptions(path);
    expect(options.ca).toEqual(CA);
    expect(options.servername).toBe('kubernetes');
    expect(options.headers).toEqual({ authorization: 'Bearer from-file' });
  });

  it('hands anything beyond a server and a plain identity (an exec plugin) to client-node', async () => {
    const path = await write(
      'config',
      `current-context: c
clusters: [{ name: k, cluster: { server: "https://k.example" } }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
users:
- name: u
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1, command: aws, args: [eks, get-token] }
`,
    );
    const kc = await loadKubeConfig(path);
    expect(kc).toBeInstanceOf(KubeConfig);
    expect(kc.getCurrentCluster()?.server).toBe('https://k.example');
  });

  it('hands a file that is not valid YAML to client-node, which names the problem', async () => {
    const path = await write('config', 'clusters: [unclosed\n');
    await expect(loadKubeConfig(path)).rejects.toThrow();
  });
});

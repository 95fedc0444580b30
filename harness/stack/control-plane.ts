import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGoBinary } from './go-binaries.ts';
import { freePort } from './ports.ts';
import { startProcess, type ManagedProcess } from './processes.ts';
import { waitUntil } from './wait.ts';

export interface ControlPlane {
  /** Path of a kubeconfig with an admin (system:masters) identity. */
  readonly kubeconfig: string;
  readonly server: string;
  readonly adminToken: string;
  /** PEM of the API server's serving CA, for clients that build their own config. */
  readonly caData: string;
  readonly dir: string;
  readonly etcd: ManagedProcess;
  /** etcd's client URL (kube-apiserver keeps every object under /registry there). */
  readonly etcdUrl: string;
  apiserver: ManagedProcess;
  /** Kills kube-apiserver and starts it again on the same port and etcd data (fault tests). */
  restartApiserver(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts etcd and kube-apiserver on loopback ports, as envtest does, and writes an admin kubeconfig. */
export async function startControlPlane(options: { dir?: string; log?: (line: string) => void } = {}): Promise<ControlPlane> {
  const [etcdBinary, apiserverBinary] = [await ensureGoBinary('etcd', options.log), await ensureGoBinary('kube-apiserver', options.log)];
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'ses-operator-kube-')));
  await mkdir(dir, { recursive: true });
  const started: ManagedProcess[] = [];
  const cleanup = async () => {
    for (const child of started.reverse()) await child.stop(10_000);
    if (ownsDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const etcd = await startEtcd(etcdBinary, dir);
    started.push(etcd.process);
    const files = await writeApiserverFiles(dir);
    const port = await freePort();
    const args = apiserverArgs({ dir, port, etcdUrl: etcd.url, ...files });
    const startApiserver = async () => {
      const child = startProcess('kube-apiserver', apiserverBinary, args, { logFile: join(dir, 'kube-apiserver.log') });
      await waitForApiserver(`https://127.0.0.1:${port}`, files.token, child);
      return child;
    };
    let apiserver = await startApiserver();
    started.push(apiserver);
    const caData = await readFile(join(dir, 'certs', 'apiserver.crt'), 'utf8');
    const server = `https://127.0.0.1:${port}`;
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, caData, files.token), { mode: 0o600 });
    const plane: ControlPlane = {
      kubeconfig,
      server,
      adminToken: files.token,
      caData,
      dir,
      etcd: etcd.process,
      etcdUrl: etcd.url,
      apiserver,
      async restartApiserver() {
        await apiserver.kill();
        started.splice(started.indexOf(apiserver), 1);
        apiserver = await startApiserver();
        started.push(apiserver);
        plane.apiserver = apiserver;
      },
      stop: cleanup,
    };
    return plane;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Removes a cluster-scoped object straight from etcd, under kube-apiserver (etcd's JSON gateway,
 * DeleteRange): the watch reports DELETED with the object's last state, finalizers and all, and no
 * deletionTimestamp ever set. What kube-apiserver does now and then to an object whose finalizer
 * was being added (kubernetes/kubernetes#77988), made to happen on demand.
 */
export async function removeFromStorage(etcdUrl: string, resource: { group: string; plural: string }, name: string): Promise<void> {
  const key = Buffer.from(`/registry/${resource.group}/${resource.plural}/${name}`).toString('base64');
  const response = await fetch(`${etcdUrl}/v3/kv/deleterange`, { method: 'POST', body: JSON.stringify({ key }) });
  const body = (await response.json()) as { deleted?: string };
  if (!response.ok || body.deleted !== '1') throw new Error(`etcd deleted ${body.deleted ?? 0} keys for ${resource.plural}/${name} (HTTP ${response.status})`);
}

async function startEtcd(binary: string, dir: string): Promise<{ url: string; process: ManagedProcess }> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const child = startProcess(
    'etcd',
    binary,
    [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      // Test data only: skipping fsync makes every API write much faster on a shared disk.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    { logFile: join(dir, 'etcd.log') },
  );
  await waitUntil(
    'etcd to report healthy',
    async () => {
      const response = await fetch(`${url}/health`);
      const body = (await response.json()) as { health?: string };
      return body.health === 'true' ? true : undefined;
    },
    { timeoutMs: 30_000, process: child },
  );
  return { url, process: child };
}

async function writeApiserverFiles(dir: string): Promise<{ token: string; tokenFile: string; keyFile: string }> {
  await mkdir(join(dir, 'certs'), { recursive: true });
  const token = randomBytes(24).toString('hex');
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(tokenFile, `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
  // One RSA key both signs and verifies ServiceAccount tokens (TokenRequest works, as in envtest).
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, 'sa.key');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { token, tokenFile, keyFile };
}

function apiserverArgs(o: { dir: string; port: number; etcdUrl: string; tokenFile: string; keyFile: string }): string[] {
  return [
    `--etcd-servers=${o.etcdUrl}`,
    `--cert-dir=${join(o.dir, 'certs')}`,
    `--secure-port=${o.port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    '--disable-admission-plugins=ServiceAccount',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${o.keyFile}`,
    `--service-account-signing-key-file=${o.keyFile}`,
    `--token-auth-file=${o.tokenFile}`,
    '--allow-privileged=true',
    '--v=0',
  ];
}

async function waitForApiserver(server: string, token: string, child: ManagedProcess): Promise<void> {
  await waitUntil(
    'kube-apiserver /readyz and the default namespace',
    async () => {
      const ready = await get(`${server}/readyz`, token);
      if (ready !== 200) return undefined;
      return (await get(`${server}/api/v1/namespaces/default`, token)) === 200 ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, process: child },
  );
}

function get(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: admin
  user:
    token: ${token}
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
`;
}

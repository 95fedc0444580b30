import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { isIPv6 } from 'node:net';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { KubeAccess } from '../runtime/kube-http.ts';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** client-go re-reads token files about once a minute: bound service-account tokens are rotated. */
const TOKEN_RELOAD_MS = 60_000;

/**
 * --kubeconfig if given, else in-cluster when running in a pod, else the default (~/.kube/config, $KUBECONFIG).
 *
 * In-cluster, and for kubeconfig files that only use a server, CA, token (or token file) and client
 * certificate, a small loader of its own serves; anything else (exec plugins, auth providers,
 * proxies, merged files, several YAML documents) goes to client-node's KubeConfig, imported
 * only then: its generated API code costs memory the operator does not otherwise need
 * (bench/RESULTS.md).
 */
export async function loadKubeConfig(path: string | undefined): Promise<KubeAccess> {
  const light = path ? fromFile(path) : process.env.KUBERNETES_SERVICE_HOST ? inCluster() : undefined;
  if (light) return light;
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured: pass --kubeconfig or set KUBECONFIG');
  return kc;
}

interface Credentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecure?: boolean;
  servername?: string;
  token?: string;
  tokenFile?: string;
}

/** A kubeconfig reduced to one server and one identity. */
class LightKubeConfig implements KubeAccess {
  readonly #c: Credentials;
  #token: { value: string; readAt: number } | undefined;

  constructor(credentials: Credentials) {
    this.#c = credentials;
  }

  getCurrentCluster(): { server: string } {
    return { server: this.#c.server };
  }

  async applyToHTTPSOptions(options: https.RequestOptions): Promise<void> {
    const { ca, cert, key, insecure, servername } = this.#c;
    if (ca) options.ca = ca;
    if (cert) options.cert = cert;
    if (key) options.key = key;
    if (insecure) options.rejectUnauthorized = false;
    if (servername) options.servername = servername;
    const token = this.#bearer();
    if (token) options.headers = { ...options.headers, authorization: `Bearer ${token}` };
  }

  #bearer(): string | undefined {
    if (this.#c.token) return this.#c.token;
    if (!this.#c.tokenFile) return undefined;
    const now = Date.now();
    if (!this.#token || now - this.#token.readAt > TOKEN_RELOAD_MS) this.#token = { value: readFileSync(this.#c.tokenFile, 'utf8').trim(), readAt: now };
    return this.#token.value;
  }
}

/** The service account's token and CA, and the API server the kubelet names in the environment. */
function inCluster(): KubeAccess | undefined {
  const host = process.env.KUBERNETES_SERVICE_HOST!;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  try {
    const ca = readFileSync(join(SERVICE_ACCOUNT, 'ca.crt'));
    readFileSync(join(SERVICE_ACCOUNT, 'token'));
    const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
    return new LightKubeConfig({ server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`, ca, tokenFile: join(SERVICE_ACCOUNT, 'token') });
  } catch {
    return undefined; // client-node reports what is missing
  }
}

const CLUSTER_FIELDS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name']);
const USER_FIELDS = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data']);

/** The current context of a single kubeconfig file, when it uses nothing beyond CLUSTER_FIELDS and USER_FIELDS. */
function fromFile(path: string): KubeAccess | undefined {
  if (path.includes(delimiter)) return undefined;
  try {
    // YAML 1.2 reads JSON too; several documents in one file throw, and client-node then takes the file.
    const config = parseYaml(readFileSync(path, 'utf8'), { logLevel: 'error' }) as Kubeconfig | null;
    const context = named(config?.contexts, config?.['current-context'])?.context;
    const cluster = named(config?.clusters, context?.cluster)?.cluster;
    const user = named(config?.users, context?.user)?.user ?? {};
    if (!cluster || typeof cluster.server !== 'string') return undefined;
    if (!Object.keys(cluster).every((field) => CLUSTER_FIELDS.has(field)) || !Object.keys(user).every((field) => USER_FIELDS.has(field))) return undefined;
    const base = dirname(path);
    const file = (name: unknown) => (typeof name === 'string' && name ? readFileSync(isAbsolute(name) ? name : join(base, name)) : undefined);
    const data = (value: unknown) => (typeof value === 'string' && value ? Buffer.from(value, 'base64') : undefined);
    const str = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
    const tokenFile = str(user.tokenFile);
    return new LightKubeConfig({
      server: cluster.server,
      ca: data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
      cert: data(user['client-certificate-data']) ?? file(user['client-certificate']),
      key: data(user['client-key-data']) ?? file(user['client-key']),
      insecure: cluster['insecure-skip-tls-verify'] === true,
      servername: str(cluster['tls-server-name']),
      token: str(user.token),
      tokenFile: tokenFile && (isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile)),
    });
  } catch {
    // YAML that does not parse, or a file that cannot be read: client-node's loader takes it, and reports any error as before.
    return undefined;
  }
}

type Fields = Record<string, unknown>;
interface Kubeconfig {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name?: string; cluster?: Fields & { server?: string } }[];
  users?: { name?: string; user?: Fields }[];
}

function named<T extends { name?: string }>(list: T[] | undefined, name: string | undefined): T | undefined {
  return Array.isArray(list) && name !== undefined ? list.find((entry) => entry?.name === name) : undefined;
}

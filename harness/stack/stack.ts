import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSesSimulator, type SesSimulator } from '../simulator/server.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { startDnsServer, type DnsServer } from './dns-server.ts';
import { installDnsEndpointCrd, startExternalDns, type ExternalDns } from './external-dns.ts';
import type { GoTool } from './go-binaries.ts';
import { findKubectl } from './kubectl.ts';
import { ensurePrerequisites } from './prerequisites.ts';

/** What clients need to reach the local stack; `npm run stack` prints exactly this as one JSON line. */
export interface StackEndpoints {
  kubeconfig: string;
  sesEndpoint: string;
  dnsServer: string;
  region: string;
}

export interface LocalStack extends StackEndpoints {
  readonly dir: string;
  readonly controlPlane: ControlPlane;
  readonly dns: DnsServer;
  readonly ses: SesSimulator;
  /** Present when started with `externalDns`: DNSEndpoints in any namespace go into BIND. */
  readonly externalDns?: ExternalDns;
  stop(): Promise<void>;
}

export interface StackOptions {
  region?: string;
  /** How often the simulator re-checks pending DKIM CNAMEs, as SES does (a few seconds here). */
  dkimCheckIntervalMs?: number;
  /** The simulator's account limits (default 10,000 each, SES's default quota); benchmarks need more. */
  maxTenants?: number;
  maxIdentities?: number;
  /** Also install the DNSEndpoint CRD and run the real external-dns (CRD source, RFC 2136 into BIND). */
  externalDns?: boolean | { interval?: string; ownerId?: string };
  log?: (line: string) => void;
}

/**
 * The local stack the tests, benchmarks and demo share: a real kube-apiserver + etcd, BIND for
 * the `test.` zone, and the SES simulator resolving DKIM through that BIND. Everything listens
 * on loopback and lives in one temporary folder removed by stop().
 */
export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const region = options.region ?? 'us-east-1';
  await ensurePrerequisites({ goTools: stackGoTools(options), log: options.log });
  // Built (or found) before anything starts, so no later step waits on a build with a timeout.
  await findKubectl(options.log);
  const dir = await mkdtemp(join(tmpdir(), 'ses-operator-stack-'));
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [controlPlane, dns] = await Promise.all([
      startControlPlane({ dir: join(dir, 'kube'), log: options.log }).then((plane) => (stops.push(plane.stop), plane)),
      startDnsServer({ dir: await makeDir(join(dir, 'dns')) }).then((server) => (stops.push(server.stop), server)),
    ]);
    const ses = await startSesSimulator({
      region,
      dnsServers: [dns.address],
      dkimCheckIntervalMs: options.dkimCheckIntervalMs ?? 2_000,
      maxTenants: options.maxTenants,
      maxIdentities: options.maxIdentities,
    });
    stops.push(ses.close);
    const externalDns = options.externalDns ? await startStackExternalDns(controlPlane.kubeconfig, dns.address, dir, options) : undefined;
    if (externalDns) stops.push(externalDns.stop);
    return {
      dir,
      region,
      kubeconfig: controlPlane.kubeconfig,
      sesEndpoint: ses.url,
      dnsServer: dns.address,
      controlPlane,
      dns,
      ses,
      externalDns,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startStackExternalDns(kubeconfig: string, dnsServer: string, dir: string, options: StackOptions): Promise<ExternalDns> {
  await installDnsEndpointCrd(kubeconfig);
  const settings = typeof options.externalDns === 'object' ? options.externalDns : {};
  return startExternalDns({ kubeconfig, dnsServer, dir: await makeDir(join(dir, 'external-dns')), log: options.log, ...settings });
}

/** The Go-built binaries the stack runs: the control plane, kubectl unless $KUBECTL names one, and external-dns when asked for. */
export function stackGoTools(options: Pick<StackOptions, 'externalDns'> = {}): GoTool[] {
  return ['etcd', 'kube-apiserver', ...(process.env.KUBECTL ? [] : (['kubectl'] as const)), ...(options.externalDns ? (['external-dns'] as const) : [])];
}

async function makeDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  return path;
}

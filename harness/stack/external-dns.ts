import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitHostPort } from './dns-records.ts';
import { LOCAL_ZONE } from './dns-server.ts';
import { ensureGoBinary, PROJECT_ROOT } from './go-binaries.ts';
import { kubectl } from './kubectl.ts';
import { freePort } from './ports.ts';
import { startProcess, type ManagedProcess } from './processes.ts';
import { waitUntil } from './wait.ts';

/** The DNSEndpoint CRD, copied from the external-dns module tools/external-dns builds. */
export const DNS_ENDPOINT_CRD = join(PROJECT_ROOT, 'harness/stack/crds/dnsendpoints.externaldns.k8s.io.yaml');
export const DNS_ENDPOINT_API_VERSION = 'externaldns.k8s.io/v1alpha1';
/** The record types SES asks a domain to publish; external-dns manages only A, AAAA and CNAME unless told. */
export const SES_RECORD_TYPES = ['CNAME', 'MX', 'TXT'] as const;

export interface ExternalDnsOptions {
  kubeconfig: string;
  /** The RFC 2136 server, "host:port" (the local stack's BIND). */
  dnsServer: string;
  /** Watch DNSEndpoints in this namespace only (default: all namespaces). */
  namespace?: string;
  /** external-dns's --interval, a Go duration: the longest a change waits (events usually trigger sooner). */
  interval?: string;
  /** --txt-owner-id: the owner its TXT registry records carry; it deletes only records with its own owner. */
  ownerId?: string;
  zone?: string;
  /** Folder for its log file (default: a temporary folder removed by stop()). */
  dir?: string;
  /** external-dns's --log-level (default info; debug shows every record it reads and each plan). */
  logLevel?: 'debug' | 'info' | 'warning' | 'error';
}

export interface ExternalDns {
  readonly process: ManagedProcess;
  readonly ownerId: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Applies the DNSEndpoint CRD and waits until the kind is served. */
export async function installDnsEndpointCrd(kubeconfig: string): Promise<void> {
  await kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', DNS_ENDPOINT_CRD]);
  await kubectl(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/dnsendpoints.externaldns.k8s.io']);
}

/**
 * external-dns's command line for DNSEndpoints -> RFC 2136. Every flag here is needed:
 * - --rfc2136-zone without a trailing dot: "test." finds no zone for the names it gets.
 * - --rfc2136-tsig-axfr turns on listing the zone by AXFR (despite its name; the flag defaults to
 *   off in v0.20.0). Without it external-dns sees an empty zone: it re-adds every record each cycle
 *   and never deletes one.
 * - --registry=txt with an owner id: it deletes only what its own TXT ownership records claim, so
 *   records someone else published in the zone survive.
 * - --events: a DNSEndpoint change starts a sync at once instead of at the next interval.
 * - --kube-api-qps / --kube-api-burst (v0.22.0's, backported): the sync writes each new DNSEndpoint's
 *   status.observedGeneration one at a time; at client-go's 5 a second, 100 new ones hold a sync 20 s.
 */
export function externalDnsArgs(options: ExternalDnsOptions & { ownerId: string; metricsAddress: string }): string[] {
  const [host, port] = splitHostPort(options.dnsServer);
  return [
    `--kubeconfig=${options.kubeconfig}`,
    '--source=crd',
    `--crd-source-apiversion=${DNS_ENDPOINT_API_VERSION}`,
    '--crd-source-kind=DNSEndpoint',
    ...(options.namespace ? [`--namespace=${options.namespace}`] : []),
    '--provider=rfc2136',
    `--rfc2136-host=${host}`,
    `--rfc2136-port=${port}`,
    `--rfc2136-zone=${(options.zone ?? LOCAL_ZONE).replace(/\.$/, '')}`,
    '--rfc2136-insecure',
    '--rfc2136-tsig-axfr',
    '--registry=txt',
    `--txt-owner-id=${options.ownerId}`,
    '--policy=sync',
    ...SES_RECORD_TYPES.map((type) => `--managed-record-types=${type}`),
    `--interval=${options.interval ?? '2s'}`,
    '--events',
    '--min-event-sync-interval=1s',
    '--kube-api-qps=50',
    '--kube-api-burst=100',
    `--metrics-address=${options.metricsAddress}`,
    `--log-level=${options.logLevel ?? 'info'}`,
  ];
}

/**
 * Runs the real external-dns (built from the Go module proxy with the fixes and the backport in
 * tools/external-dns/patches.json, cached like the control plane) against a cluster and the local BIND. The DNSEndpoint CRD must be installed first
 * (installDnsEndpointCrd). Resolves once it has finished its first sync.
 */
export async function startExternalDns(options: ExternalDnsOptions & { log?: (line: string) => void }): Promise<ExternalDns> {
  const binary = await ensureGoBinary('external-dns', options.log);
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'ses-operator-external-dns-')));
  const ownerId = options.ownerId ?? 'ses-operator-stack';
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const logFile = join(dir, 'external-dns.log');
  const child = startProcess('external-dns', binary, externalDnsArgs({ ...options, ownerId, metricsAddress }), { logFile });
  const stop = async () => {
    await child.stop(10_000);
    if (ownsDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil('external-dns to finish its first sync', async () => (FIRST_SYNC.test(child.tail()) ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 200,
      process: child,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { process: child, ownerId, logFile, stop };
}

/** What external-dns logs after a sync that listed the zone and the sources without error. */
const FIRST_SYNC = /All records are already up to date|Adding RR|Removing RR/;

import { inject } from 'vitest';
import { KubeClient } from '../../harness/stack/kube-client.ts';
import { SimClient } from '../../harness/stack/sim-client.ts';
import type { DnsEndpoint } from '../../src/controllers/sessetup/dns-endpoint.ts';

/** The shared local stack of an end-to-end test: its endpoints, the Kubernetes client (this object) and the simulator's control client. */
export function cluster() {
  const stack = inject('stack');
  return Object.assign(new KubeClient(stack.kubeconfig), { stack, sim: new SimClient(stack.sesEndpoint) });
}

export function condition(object: { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined, type: string) {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** Who wrote an object, as `kubectl get --show-managed-fields` lists it: one manager per entry, with its subresource. */
export function fieldManagers(object: { metadata: object } | undefined): { manager: string; subresource?: string }[] {
  return (object?.metadata as { managedFields?: { manager: string; subresource?: string }[] } | undefined)?.managedFields ?? [];
}

/** A DNSEndpoint as `kubectl get` shows it, or undefined when there is none. */
export async function getDnsEndpoint(
  c: { kubectl(args: string[]): Promise<{ stdout: string }> },
  namespace: string,
  name: string,
): Promise<DnsEndpoint | undefined> {
  const { stdout } = await c.kubectl(['get', 'dnsendpoints.externaldns.k8s.io', name, '-n', namespace, '-o', 'json', '--ignore-not-found']);
  return stdout.trim() ? (JSON.parse(stdout) as DnsEndpoint) : undefined;
}

/** A unique lower-case suffix for names in one test run. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

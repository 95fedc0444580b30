import type { TestProject } from 'vitest/node';
import { startLocalStack, type StackEndpoints } from '../../src/stack/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

/** Starts the shared local stack once for the whole run and stops it (and its processes) at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack({ log: (line) => process.stderr.write(`[stack] ${line}\n`) });
  const { kubeconfig, sesEndpoint, dnsServer, region } = stack;
  project.provide('stack', { kubeconfig, sesEndpoint, dnsServer, region });
  return () => stack.stop();
}

import { readFile } from 'node:fs/promises';
import type { FaultEnv } from './env.ts';
import { FAKE_AWS_ENV } from '../../harness/stack/local-operator.ts';

export interface SecretScan {
  findings: string[];
  summary: string;
}

/**
 * No credential, token or secret value may appear in logs, Events or status: looks for the fake
 * AWS credentials every operator ran with and for the kubeconfig's bearer token in every operator
 * log file, every Event in the cluster, and every SesSetup and EmailUseCase (status included).
 */
export async function scanForSecrets(env: FaultEnv, logFiles: string[]): Promise<SecretScan> {
  const secrets: [string, string][] = Object.entries(FAKE_AWS_ENV);
  if (env.bearerToken) secrets.push(['kubeconfig bearer token', env.bearerToken]);
  const findings: string[] = [];
  const look = (where: string, text: string) => {
    for (const [what, value] of secrets) if (value && text.includes(value)) findings.push(`${what} found in ${where}`);
  };
  let lines = 0;
  for (const file of new Set(logFiles)) {
    const text = await readFile(file, 'utf8').catch(() => '');
    lines += text.split('\n').length - 1;
    look(`operator log ${file}`, text);
  }
  const events = await env.kube.eventsJson();
  const eventCount = (JSON.parse(events) as { items: unknown[] }).items.length;
  look('Events', events);
  const setups = await env.kube.listSetups();
  look('SesSetups', JSON.stringify(setups));
  const useCases = await env.kube.listUseCases();
  look('EmailUseCases', JSON.stringify(useCases));
  return {
    findings,
    summary: `secrets: looked for ${secrets.length} values (${secrets.map(([what]) => what).join(', ')}) in ${logFiles.length} operator logs (${lines} lines), ${eventCount} Events, ${setups.length} SesSetups, ${useCases.length} EmailUseCases: ${findings.length === 0 ? 'none found' : `${findings.length} FOUND`}`,
  };
}

// `npm run demo`: the whole product on a laptop, no AWS account. Starts the local stack with the
// real external-dns, installs the CRDs, runs the operator, applies a sample SesSetup (with
// dnsPublication: ExternalDNS, so external-dns publishes its records into the local BIND, which
// plays the customer's DNS host) and EmailUseCase, and stays up until Ctrl-C. --manual leaves
// publishing the records to you.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { recordsTable } from '../../src/cli/records-table.ts';
import { PROJECT_ROOT } from './go-binaries.ts';
import { findKubectl, kubectl } from './kubectl.ts';
import { freePort } from './ports.ts';
import type { ManagedProcess } from './processes.ts';
import { waitUntil } from './wait.ts';
import { startLocalOperator } from './local-operator.ts';
import { installCrds } from './install-crds.ts';
import { KubeClient } from './kube-client.ts';
import { startLocalStack, type LocalStack } from './stack.ts';

const { values } = parseArgs({ options: { manual: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
if (values.help) {
  process.stdout.write(
    'Usage: npm run demo [-- --manual]\n  --manual  no external-dns: the setup asks you to publish its DNS records (nsupdate), then run the verify command\n',
  );
  process.exit(0);
}

const DNS_ENDPOINT_NAMESPACE = 'default';
const say = (line: string) => process.stdout.write(`${line}\n`);
let stack: LocalStack | undefined;
let operator: ManagedProcess | undefined;
let stopping: Promise<never> | undefined;

/** Stops everything once, however many signals or failures ask for it, and only then exits. */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    say('\nstopping the operator and the local stack ...');
    await operator?.stop(15_000);
    await stack?.stop();
    say('stopped; nothing left behind.');
    process.exit(code);
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(0));

try {
  const started = Date.now();
  const externalDns = !values.manual;
  say(`starting the local stack (kube-apiserver + etcd, BIND for .test, SES simulator${externalDns ? ', external-dns' : ''}) ...`);
  // external-dns watches every namespace; the operator keeps its DNSEndpoints in "default".
  stack = await startLocalStack({ log: say, externalDns });
  const kc = stack.kubeconfig;
  await installCrds(kc);

  const metricsPort = await freePort();
  const logFile = join(stack.dir, 'operator.log');
  const local = await startLocalOperator({
    stack,
    logFile,
    args: [
      ...['--ses-rate-limit', '10', '--recheck-fast', '2s', '--recheck-fast-max', '10s', '--metrics-bind-address', `127.0.0.1:${metricsPort}`],
      ...['--dns-endpoint-namespace', DNS_ENDPOINT_NAMESPACE],
    ],
  });
  operator = local.process;
  await local.waitForLog('running');

  const k = await findKubectl();
  say(`
the local stack is up (${Math.round((Date.now() - started) / 1000)} s). Look at it from another terminal:
  ${k} --kubeconfig ${kc} get ses -w
  ${k} --kubeconfig ${kc} describe sessetup acme-mail
  ${k} --kubeconfig ${kc} get emailusecase -A
  curl -s http://127.0.0.1:${metricsPort}/metrics | grep ses_operator
  npm start -- verify acme-mail --kubeconfig ${kc}
  operator log: ${logFile}${externalDns ? `\n  ${k} --kubeconfig ${kc} get dnsendpoints -n ${DNS_ENDPOINT_NAMESPACE} -o yaml\n  external-dns log: ${stack.externalDns!.logFile}` : ''}
`);
  const sample = parse(await readFile(join(PROJECT_ROOT, 'deploy/samples/sessetup.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  if (externalDns) sample.spec.dnsPublication = 'ExternalDNS';
  await kubectl(kc, ['apply', '-f', '-'], { input: JSON.stringify(sample) });
  await kubectl(kc, ['apply', '-f', join(PROJECT_ROOT, 'deploy/samples/emailusecase.yaml')]);
  say(`applied deploy/samples/sessetup.yaml${externalDns ? ' with spec.dnsPublication: ExternalDNS' : ''} and deploy/samples/emailusecase.yaml`);

  const kube = new KubeClient(kc);
  const read = () => kube.getSetup('acme-mail');
  const withRecords = await waitUntil('DNS records in status', async () => ((await read())?.status?.dnsRecords?.length ? read() : undefined), {
    timeoutMs: 60_000,
    process: operator,
  });
  say(`\nSES tenant and identity exist; the records to publish (status.dnsRecords):\n${recordsTable(withRecords.status!.dnsRecords!)}\n`);

  if (values.manual) {
    const [host, port] = stack.dnsServer.split(':');
    say(
      `--manual: publish them yourself, e.g.\n  nsupdate <<EOF\n  server ${host} ${port}\n  update add ${withRecords.status!.dnsRecords![0]!.name}. 60 CNAME ${withRecords.status!.dnsRecords![0]!.value}.\n  send\n  EOF\nthen: npm start -- verify acme-mail --kubeconfig ${kc}`,
    );
  } else {
    say(
      `the operator handed them to external-dns (DNSEndpoint ${DNS_ENDPOINT_NAMESPACE}/acme-mail), which writes them into the local DNS server, the customer's DNS host here; nobody touches DNS. Waiting for SES and the operator to verify them ...`,
    );
    await waitUntil(
      'the SesSetup to be Ready',
      async () => ((await read())?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined),
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        process: operator,
      },
    );
    const { stdout } = await kubectl(kc, ['get', 'ses']);
    say(`\nacme-mail is Ready, ${Math.round((Date.now() - started) / 1000)} s after start:\n${stdout}`);
  }
  say('Ctrl-C stops everything.');
  await operator.exited;
  if (stopping) await stopping; // Ctrl-C: shutdown() is already stopping it all
  say(`the operator exited unexpectedly; see ${logFile}`);
  await shutdown(1);
} catch (error) {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await shutdown(1);
}

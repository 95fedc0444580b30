// `npm run stack`: starts the local stack, prints one JSON line with its endpoints, and serves
// until interrupted; then stops every process it started and removes its temporary files.
import { parseArgs } from 'node:util';
import { startLocalStack } from './stack.ts';

const { values } = parseArgs({
  options: {
    region: { type: 'string', default: 'us-east-1' },
    'dkim-check-interval-ms': { type: 'string', default: '2000' },
    'external-dns': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run stack -- [--region us-east-1] [--dkim-check-interval-ms 2000]\n' +
      'Starts kube-apiserver + etcd, BIND (zone test.) and the SES simulator on loopback and prints\n' +
      '{"kubeconfig", "sesEndpoint", "dnsServer", "region"} as one JSON line. Ctrl-C stops it all.\n',
  );
  process.exit(0);
}
const interval = Number(values['dkim-check-interval-ms']);
if (!Number.isInteger(interval) || interval < 100) {
  process.stderr.write(`--dkim-check-interval-ms must be a whole number of milliseconds >= 100, got "${values['dkim-check-interval-ms']}"\n`);
  process.exit(2);
}

const stack = await startLocalStack({
  region: values.region,
  dkimCheckIntervalMs: interval,
  externalDns: values['external-dns'],
  log: (line) => process.stderr.write(`${line}\n`),
}).catch((error: unknown) => {
  process.stderr.write(`the local stack did not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

const { kubeconfig, sesEndpoint, dnsServer, region } = stack;
const externalDnsOwnerId = stack.externalDns?.ownerId;
process.stdout.write(`${JSON.stringify({ kubeconfig, sesEndpoint, dnsServer, region, ...(externalDnsOwnerId ? { externalDnsOwnerId } : {}) })}\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping the local stack ...\n');
    void stack.stop().then(() => process.exit(0));
  });
}

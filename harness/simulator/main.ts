// `npm run ses-simulator -- --port 4566 --dns-server 127.0.0.1:5353`: runs the SES simulator on its
// own, prints {"sesEndpoint": url} as one JSON line and serves until SIGINT/SIGTERM.
import { isIPv4, isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';
import type { Faults } from './faults.ts';
import { REGION_PATTERN } from './region.ts';
import { DEFAULTS, startSesSimulator, type SesSimulatorOptions } from './server.ts';

const USAGE = `Usage: node harness/simulator/main.ts [options]

Serves the Amazon SES v2 API (tenants, email identities, tags) for the AWS SDK's endpoint override,
plus a control interface under /_simulator/ (see harness/simulator/CONTROL.md).

  --port N                    TCP port; 0 picks a free one (default 0)
  --host H                    address to listen on (default ${DEFAULTS.host})
  --dns-server IP[:PORT]      DNS server for DKIM checks; repeat for several (default: system resolvers)
  --region R                  region of requests without a SigV4 credential scope (default ${DEFAULTS.region})
  --dkim-check-interval-ms N  how often DKIM and MAIL FROM records are checked (default ${DEFAULTS.dkimCheckIntervalMs})
  --dkim-failure-after-ms N   records unverified this long (or lapsed this long) turn FAILED (default 72 h)
  --signing-hosted-zone Z     where DKIM CNAMEs must point; {region} = the identity's region (default ${DEFAULTS.signingHostedZone})
  --max-tenants N             LimitExceededException beyond this many tenants (default ${DEFAULTS.maxTenants})
  --max-identities N          LimitExceededException beyond this many identities (default ${DEFAULTS.maxIdentities})
  --quota-rps N               token-bucket quota: calls/s before 429 TooManyRequestsException (default: none)
  --quota-burst N             calls allowed at once under the quota (default: one second's worth)
  --throttle-fraction F       share of calls (0..1) answered 429 at random (default 0)
  --error-fraction F          share of calls (0..1) answered 500 InternalFailure (default 0)
  --latency-ms N              delay added to every SES call (default 0)
  --help                      print this and exit
`;

class UsageError extends Error {}

function readOptions(argv: string[]): SesSimulatorOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'dns-server': { type: 'string', multiple: true },
        region: { type: 'string' },
        'dkim-check-interval-ms': { type: 'string' },
        'dkim-failure-after-ms': { type: 'string' },
        'signing-hosted-zone': { type: 'string' },
        'max-tenants': { type: 'string' },
        'max-identities': { type: 'string' },
        'quota-rps': { type: 'string' },
        'quota-burst': { type: 'string' },
        'throttle-fraction': { type: 'string' },
        'error-fraction': { type: 'string' },
        'latency-ms': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }

  const whole = (flag: keyof typeof values, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || value < min || value > max) {
      throw new UsageError(`--${flag} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got "${String(raw)}"`);
    }
    return value;
  };
  const decimal = (flag: keyof typeof values, min: number, max: number, minExclusive = false): number | undefined => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (minExclusive && value === min)) {
      throw new UsageError(`--${flag} must be a number ${minExclusive ? 'above' : 'from'} ${min}${max === Infinity ? '' : ` to ${max}`}, got "${String(raw)}"`);
    }
    return value;
  };

  const dnsServers = (values['dns-server'] ?? []).map((server) => {
    if (!isDnsServerAddress(server))
      throw new UsageError(`--dns-server must be an IP address with an optional port (127.0.0.1:5353, [::1]:5353), got "${server}"`);
    return server;
  });
  const region = values.region;
  if (region !== undefined && !REGION_PATTERN.test(region)) throw new UsageError(`--region must look like us-east-1, got "${region}"`);
  const zone = values['signing-hosted-zone'];
  if (zone !== undefined && !/^[A-Za-z0-9.-]+$/.test(zone.replaceAll('{region}', 'us-east-1'))) {
    throw new UsageError(`--signing-hosted-zone must be a DNS name ({region} stands for the identity's region), got "${zone}"`);
  }

  const quotaRps = decimal('quota-rps', 0, Infinity, true);
  const quotaBurst = whole('quota-burst', 1);
  if (quotaBurst !== undefined && quotaRps === undefined) throw new UsageError('--quota-burst needs --quota-rps');
  const faults: Partial<Faults> = {
    quota: quotaRps === undefined ? null : { ratePerSecond: quotaRps, burst: quotaBurst ?? Math.max(1, Math.ceil(quotaRps)) },
    throttleFraction: decimal('throttle-fraction', 0, 1) ?? 0,
    errorFraction: decimal('error-fraction', 0, 1) ?? 0,
    latencyMs: decimal('latency-ms', 0, Infinity) ?? 0,
  };

  const options: SesSimulatorOptions = { dnsServers, faults };
  const set = <K extends keyof SesSimulatorOptions>(key: K, value: SesSimulatorOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('port', whole('port', 0, 65_535));
  set('host', values.host);
  set('region', region);
  set('dkimCheckIntervalMs', whole('dkim-check-interval-ms', 1));
  set('dkimFailureAfterMs', whole('dkim-failure-after-ms', 0));
  set('signingHostedZone', zone);
  set('maxTenants', whole('max-tenants', 0));
  set('maxIdentities', whole('max-identities', 0));
  return options;
}

/** node's resolver takes IP addresses only: "1.2.3.4", "1.2.3.4:53", "::1" or "[::1]:53". */
function isDnsServerAddress(server: string): boolean {
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(server);
  if (v6) return isIPv6(v6[1]!) && validPort(v6[2]);
  if (isIPv6(server)) return true;
  const [host, port, ...rest] = server.split(':');
  return rest.length === 0 && isIPv4(host ?? '') && validPort(port);
}

function validPort(port: string | undefined): boolean {
  return port === undefined || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535);
}

let options: SesSimulatorOptions;
try {
  options = readOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`ses-simulator: ${error.message}\nRun with --help for the options.\n`);
  process.exit(2);
}

const simulator = await startSesSimulator(options).catch((error: unknown) => {
  process.stderr.write(`ses-simulator: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
process.stdout.write(`${JSON.stringify({ sesEndpoint: simulator.url })}\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void simulator.close().then(() => process.exit(0));
  });
}

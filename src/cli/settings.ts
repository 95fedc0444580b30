import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseReferrerKind, type ReferrerKind } from '../controllers/referrers.ts';
import { REGION_PATTERN } from '../api/sessetup.ts';
import { isLoopbackBindAddress } from '../rest-api/loopback.ts';
import { parseDuration } from './duration.ts';

/**
 * One setting of `ses-operator run`. Parsing, validation, `--help` and the README table all come
 * from these rows, so adding a setting is adding a row.
 */
export interface Setting<Field extends string = string, Value = unknown> {
  /** The property of Settings it fills. */
  field: Field;
  env: string;
  /** Read when `env` is unset (AWS_DEFAULT_REGION beside AWS_REGION). */
  aliasEnv?: string;
  default?: string;
  help: string;
  /**
   * How the flag is written: `string` (default) takes a value; `boolean` may stand alone (true) or
   * be negated (--no-flag); `list` repeats, and its environment variable is comma-separated.
   */
  kind?: 'string' | 'boolean' | 'list';
  /** Validates and converts the raw text (a string[] for lists); messages name the flag it is given. */
  schema: (flag: string) => z.ZodType<Value>;
}

const setting = <Field extends string, Value>(row: Setting<Field, Value>) => row;

const positive = (what: string) => z.coerce.number({ error: `${what} must be a number` }).positive(`${what} must be > 0`);

const wholeNumber = (what: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${what} must be a whole number` })
    .int(`${what} must be a whole number`)
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`);

const duration = (what: string, { allowZero = false } = {}) =>
  z.string().transform((text, ctx) => {
    try {
      const ms = parseDuration(text);
      if (ms > 0 || allowZero) return ms;
      ctx.addIssue({ code: 'custom', message: `${what} must be longer than 0` });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${what}: ${(error as Error).message}` });
    }
    return z.NEVER;
  });

const bindAddress = (what: string) =>
  z
    .string()
    .refine(
      (text) => text === '0' || /^(\[[0-9a-fA-F:]+\]|[0-9.]*|[a-zA-Z0-9.-]*):\d{1,5}$/.test(text),
      `${what} must look like :8080 or 127.0.0.1:8080, or 0 to turn it off`,
    );

/** An optional setting given as an empty string is unset. */
const optional = <Value>(schema: z.ZodType<Value, string>) =>
  z
    .string()
    .optional()
    .transform((text) => text || undefined)
    .pipe(schema.optional());

const namespaceName = (what: string) => optional(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${what} must be a namespace name`));

const resolvers = (what: string) =>
  z.string().transform((text, ctx) => {
    const servers = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const server of servers) {
      const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(server);
      if (!match || !isIP(match[1]!) || (match[2] !== undefined && (Number(match[2]) < 1 || Number(match[2]) > 65535))) {
        ctx.addIssue({ code: 'custom', message: `${what}: "${server}" is not ip[:port] (names are not allowed: a resolver is an address)` });
      }
    }
    return servers;
  });

const referrerKinds = (what: string) =>
  z.array(z.string()).transform((texts, ctx) => {
    const kinds: ReferrerKind[] = [];
    for (const text of texts) {
      try {
        kinds.push(parseReferrerKind(text));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${what}: ${(error as Error).message}` });
      }
    }
    return kinds;
  });

/** Every setting of `ses-operator run`, keyed by flag name, in the order --help and the README list them. */
export const SETTINGS = {
  kubeconfig: setting({
    field: 'kubeconfig',
    env: 'KUBECONFIG',
    help: 'kubeconfig path (default: in-cluster, else ~/.kube/config)',
    schema: () => optional(z.string()),
  }),
  region: setting({
    field: 'region',
    env: 'AWS_REGION',
    aliasEnv: 'AWS_DEFAULT_REGION',
    help: 'AWS region for new SesSetups without spec.region; an existing setup keeps the region in its status.region',
    schema: (flag) =>
      z
        .string({ error: `${flag} (or AWS_REGION) is required: the region of SesSetups that do not name one` })
        .regex(new RegExp(REGION_PATTERN), `${flag} must look like eu-west-1`),
  }),
  'ses-endpoint': setting({
    field: 'sesEndpoint',
    env: 'SES_OPERATOR_SES_ENDPOINT',
    help: 'SES endpoint override, e.g. the local SES simulator',
    schema: (flag) => optional(z.url({ error: `${flag} must be a URL such as http://127.0.0.1:4566` })),
  }),
  'ses-rate-limit': setting({
    field: 'sesRateLimit',
    env: 'SES_OPERATOR_SES_RATE_LIMIT',
    default: '1',
    help: 'SES requests per second, all regions together; urgent calls (a new setup until verified, verify requests, deletions) go before routine upkeep, which keeps one call in four',
    schema: positive,
  }),
  'ses-max-attempts': setting({
    field: 'sesMaxAttempts',
    env: 'SES_OPERATOR_SES_MAX_ATTEMPTS',
    default: '3',
    help: 'SDK attempts per SES call (adaptive retries)',
    schema: (flag) => wholeNumber(flag, 1, 10),
  }),
  'dns-servers': setting({
    field: 'dnsServers',
    env: 'SES_OPERATOR_DNS_SERVERS',
    default: '',
    help: 'comma-separated ip:port resolvers for the DNS checks (default: the system resolver)',
    schema: resolvers,
  }),
  'dns-timeout': setting({ field: 'dnsTimeoutMs', env: 'SES_OPERATOR_DNS_TIMEOUT', default: '2s', help: 'timeout of one DNS query', schema: duration }),
  'dns-endpoint-namespace': setting({
    field: 'dnsEndpointNamespace',
    env: 'SES_OPERATOR_DNS_ENDPOINT_NAMESPACE',
    aliasEnv: 'POD_NAMESPACE',
    help: "namespace of the DNSEndpoints of SesSetups with dnsPublication ExternalDNS (default: the operator's own namespace)",
    schema: namespaceName,
  }),
  concurrency: setting({
    field: 'concurrency',
    env: 'SES_OPERATOR_CONCURRENCY',
    default: '4',
    help: 'SesSetups reconciled at once',
    schema: (flag) => wholeNumber(flag, 1, 256),
  }),
  referrer: setting({
    field: 'referrers',
    env: 'SES_OPERATOR_REFERRERS',
    kind: 'list',
    help: 'another kind that references SesSetups: group/version/resource:field.path',
    schema: referrerKinds,
  }),
  'recheck-fast': setting({
    field: 'recheckFastMs',
    env: 'SES_OPERATOR_RECHECK_FAST',
    default: '10s',
    help: 'first re-check delay while a record is unverified (doubles up to --recheck-fast-max)',
    schema: duration,
  }),
  'recheck-fast-max': setting({
    field: 'recheckFastMaxMs',
    env: 'SES_OPERATOR_RECHECK_FAST_MAX',
    default: '5m',
    help: 'longest re-check delay while a record is unverified',
    schema: duration,
  }),
  'recheck-slow': setting({
    field: 'recheckSlowMs',
    env: 'SES_OPERATOR_RECHECK_SLOW',
    default: '1h',
    help: 're-check interval once every record is verified',
    schema: duration,
  }),
  'recheck-budget-share': setting({
    field: 'recheckBudgetShare',
    env: 'SES_OPERATOR_RECHECK_BUDGET_SHARE',
    default: '0.5',
    help: 'share of the SES rate scheduled re-checks may use',
    schema: (flag) =>
      z.coerce
        .number({ error: `${flag} must be a number` })
        .gt(0, `${flag} must be > 0`)
        .max(1, `${flag} must be at most 1`),
  }),
  'orphan-sweep-interval': setting({
    field: 'orphanSweepIntervalMs',
    env: 'SES_OPERATOR_ORPHAN_SWEEP_INTERVAL',
    default: '1h',
    help: 'how often the leader deletes SES resources tagged as its own, and its DNSEndpoints, whose SesSetup is gone (0 turns it off)',
    schema: (flag) => duration(flag, { allowZero: true }),
  }),
  'orphan-sweep-grace': setting({
    field: 'orphanSweepGraceMs',
    env: 'SES_OPERATOR_ORPHAN_SWEEP_GRACE',
    default: '10m',
    help: 'how long a resource must have been seen orphaned, at two sweeps at least, before it is deleted',
    schema: (flag) => duration(flag, { allowZero: true }),
  }),
  'log-level': setting({
    field: 'logLevel',
    env: 'LOG_LEVEL',
    default: 'info',
    help: 'trace, debug, info, warn, error',
    schema: (flag) =>
      z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: `${flag} must be one of trace, debug, info, warn, error` }),
  }),
  'metrics-bind-address': setting({
    field: 'metricsBindAddress',
    env: 'SES_OPERATOR_METRICS_BIND_ADDRESS',
    default: ':8080',
    help: 'where /metrics is served (0 turns it off)',
    schema: bindAddress,
  }),
  'health-probe-bind-address': setting({
    field: 'healthProbeBindAddress',
    env: 'SES_OPERATOR_HEALTH_PROBE_BIND_ADDRESS',
    default: ':8081',
    help: 'where /healthz and /readyz are served (0 turns it off)',
    schema: bindAddress,
  }),
  'leader-elect': setting({
    field: 'leaderElect',
    env: 'SES_OPERATOR_LEADER_ELECT',
    default: 'false',
    kind: 'boolean',
    help: 'elect a leader on a coordination.k8s.io Lease so only one replica reconciles',
    schema: (flag) =>
      z.enum(['true', 'false', '1', '0', ''], { error: `${flag} must be true or false` }).transform((v) => v === 'true' || v === '1' || v === ''),
  }),
  'leader-election-namespace': setting({
    field: 'leaderElectionNamespace',
    env: 'POD_NAMESPACE',
    help: "namespace of the Lease (default: the pod's namespace, from POD_NAMESPACE)",
    schema: namespaceName,
  }),
  'leader-election-id': setting({
    field: 'leaderElectionId',
    env: 'SES_OPERATOR_LEADER_ELECTION_ID',
    default: 'ses-operator',
    help: 'name of the Lease',
    schema: (flag) => z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${flag} must be a lower-case DNS name`),
  }),
  'lease-duration': setting({
    field: 'leaseDurationMs',
    env: 'SES_OPERATOR_LEASE_DURATION',
    default: '15s',
    help: 'how long a lease is valid without renewal',
    schema: duration,
  }),
  'renew-deadline': setting({
    field: 'renewDeadlineMs',
    env: 'SES_OPERATOR_RENEW_DEADLINE',
    default: '10s',
    help: 'how long the leader keeps trying to renew before it stops working',
    schema: duration,
  }),
  'retry-period': setting({
    field: 'retryPeriodMs',
    env: 'SES_OPERATOR_RETRY_PERIOD',
    default: '2s',
    help: 'how often candidates try to take, and the leader to renew, the lease',
    schema: duration,
  }),
  'shutdown-grace': setting({
    field: 'shutdownGraceMs',
    env: 'SES_OPERATOR_SHUTDOWN_GRACE',
    default: '10s',
    help: 'on SIGTERM, how long in-flight reconciles may take to finish',
    schema: (flag) => duration(flag, { allowZero: true }),
  }),
  'api-bind-address': setting({
    field: 'apiBindAddress',
    env: 'SES_OPERATOR_API_BIND_ADDRESS',
    default: '0',
    help: 'where the Channels REST API is served, e.g. :8443 (0 turns it off); plain HTTP only on a loopback address',
    schema: bindAddress,
  }),
  'api-tls-cert-file': setting({
    field: 'apiTlsCertFile',
    env: 'SES_OPERATOR_API_TLS_CERT_FILE',
    help: "PEM certificate (chain) of the REST API's TLS",
    schema: () => optional(z.string()),
  }),
  'api-tls-key-file': setting({
    field: 'apiTlsKeyFile',
    env: 'SES_OPERATOR_API_TLS_KEY_FILE',
    help: "PEM private key of the REST API's TLS",
    schema: () => optional(z.string()),
  }),
  'api-refresh-timeout': setting({
    field: 'apiRefreshTimeoutMs',
    env: 'SES_OPERATOR_API_REFRESH_TIMEOUT',
    default: '5s',
    help: 'how long a REST API GET or verify waits for its live check, and a create for the DNS records',
    schema: (flag) => duration(flag),
  }),
};

type Rows = typeof SETTINGS;
export type SettingName = keyof Rows;

/** The validated settings: one property per row, named by its `field`. */
export type Settings = {
  [Name in SettingName as Rows[Name]['field']]: Rows[Name] extends Setting<string, infer Value> ? Value : never;
};

/** Checks between settings, after each one is valid on its own. */
function checkTogether(s: Settings, problem: (message: string) => void): void {
  if (s.leaderElect && !s.leaderElectionNamespace) problem('--leader-elect needs --leader-election-namespace (or POD_NAMESPACE)');
  if (!(s.renewDeadlineMs < s.leaseDurationMs)) problem('--renew-deadline must be shorter than --lease-duration');
  if (!(s.retryPeriodMs < s.renewDeadlineMs)) problem('--retry-period must be shorter than --renew-deadline');
  if (!s.apiTlsCertFile !== !s.apiTlsKeyFile) problem('--api-tls-cert-file and --api-tls-key-file go together');
  if (s.apiBindAddress !== '0' && !s.apiTlsCertFile && !isLoopbackBindAddress(s.apiBindAddress)) {
    problem(
      `--api-bind-address ${s.apiBindAddress} is not a loopback address: plain HTTP would carry bearer tokens; set --api-tls-cert-file and --api-tls-key-file`,
    );
  }
}

/** The full help text of one row: its own help plus what its kind and alias imply. */
export function describeSetting(row: Setting): string {
  if (row.kind === 'list') return `${row.help} (repeatable; env: comma-separated)`;
  if (row.kind === 'boolean') return `${row.help} (a bare flag means true)`;
  if (row.aliasEnv) return `${row.help} (also ${row.aliasEnv})`;
  return row.help;
}

function settingsSchema(rows: Record<string, Setting>) {
  const shape = Object.fromEntries(Object.entries(rows).map(([name, row]) => [row.field, row.schema(`--${name}`)]));
  return z
    .object(shape)
    .superRefine((settings, ctx) =>
      checkTogether(settings as Settings, (message) => ctx.addIssue({ code: 'custom', message })),
    ) as unknown as z.ZodType<Settings>;
}

const SCHEMA = settingsSchema(SETTINGS);

/** The raw text of one row: flag, else environment variable, else its alias, else the default. */
function rawValue(row: Setting, flag: string | string[] | undefined, env: NodeJS.ProcessEnv): string | string[] | undefined {
  if (row.kind === 'list') {
    if (Array.isArray(flag) && flag.length > 0) return flag;
    return (env[row.env] ?? row.default ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (typeof flag === 'string') return flag;
  return env[row.env] ?? (row.aliasEnv === undefined ? undefined : env[row.aliasEnv]) ?? row.default;
}

/** Flags win over environment variables, which win over defaults; every bad value is named in one error. */
export function resolveSettings(flags: Partial<Record<SettingName, string | string[]>>, env: NodeJS.ProcessEnv): Settings {
  const raw = Object.fromEntries(Object.entries(SETTINGS).map(([name, row]) => [row.field, rawValue(row, flags[name as SettingName], env)]));
  const parsed = SCHEMA.safeParse(raw);
  if (!parsed.success) throw new SettingsError(parsed.error.issues.map((issue) => issue.message));
  return parsed.data;
}

/** The command line as the rows declare it; `help` when --help was given. Throws on unknown flags or missing values. */
export function parseSettingsArgs(argv: string[]): { help: boolean; flags: Partial<Record<SettingName, string | string[]>> } {
  const options = Object.fromEntries(
    Object.entries(SETTINGS).map(([name, row]: [string, Setting]) => [
      name,
      row.kind === 'list'
        ? { type: 'string' as const, multiple: true as const }
        : row.kind === 'boolean'
          ? { type: 'boolean' as const }
          : { type: 'string' as const },
    ]),
  );
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true, allowNegative: true });
  const flags: Partial<Record<SettingName, string | string[]>> = {};
  for (const [name, value] of Object.entries(values)) {
    if (name === 'help' || value === undefined) continue;
    flags[name as SettingName] = typeof value === 'boolean' ? String(value) : value;
  }
  return { help: values.help === true, flags };
}

export class SettingsError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
    this.problems = problems;
  }
}

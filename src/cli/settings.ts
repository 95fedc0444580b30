import { isIP } from 'node:net';
import { z } from 'zod';
import { parseReferrerKind, type ReferrerKind } from '../controllers/referrers.ts';
import { REGION_PATTERN } from '../api/sessetup.ts';
import { isLoopbackBindAddress } from '../rest-api/loopback.ts';
import { parseDuration } from './duration.ts';

/** Every setting of `ses-operator run`: flag name, environment variable, default, and help. */
export const SETTINGS = {
  kubeconfig: { env: 'KUBECONFIG', help: 'kubeconfig path (default: in-cluster, else ~/.kube/config)' },
  region: { env: 'AWS_REGION', help: 'default AWS region for SesSetups without spec.region (also AWS_DEFAULT_REGION)' },
  'ses-endpoint': { env: 'SES_OPERATOR_SES_ENDPOINT', help: 'SES endpoint override, e.g. the local SES simulator' },
  'ses-rate-limit': { env: 'SES_OPERATOR_SES_RATE_LIMIT', default: '1', help: 'SES requests per second, all regions together' },
  'ses-max-attempts': { env: 'SES_OPERATOR_SES_MAX_ATTEMPTS', default: '3', help: 'SDK attempts per SES call (adaptive retries)' },
  'dns-servers': { env: 'SES_OPERATOR_DNS_SERVERS', default: '', help: 'comma-separated ip:port resolvers for the DNS checks (default: the system resolver)' },
  'dns-timeout': { env: 'SES_OPERATOR_DNS_TIMEOUT', default: '2s', help: 'timeout of one DNS query' },
  concurrency: { env: 'SES_OPERATOR_CONCURRENCY', default: '4', help: 'SesSetups reconciled at once' },
  referrer: {
    env: 'SES_OPERATOR_REFERRERS',
    help: 'another kind that references SesSetups: group/version/resource:field.path (repeatable; env: comma-separated)',
  },
  'recheck-fast': {
    env: 'SES_OPERATOR_RECHECK_FAST',
    default: '10s',
    help: 'first re-check delay while a record is unverified (doubles up to --recheck-fast-max)',
  },
  'recheck-fast-max': { env: 'SES_OPERATOR_RECHECK_FAST_MAX', default: '5m', help: 'longest re-check delay while a record is unverified' },
  'recheck-slow': { env: 'SES_OPERATOR_RECHECK_SLOW', default: '1h', help: 're-check interval once every record is verified' },
  'recheck-budget-share': { env: 'SES_OPERATOR_RECHECK_BUDGET_SHARE', default: '0.5', help: 'share of the SES rate scheduled re-checks may use' },
  'log-level': { env: 'LOG_LEVEL', default: 'info', help: 'trace, debug, info, warn, error' },
  'metrics-bind-address': { env: 'SES_OPERATOR_METRICS_BIND_ADDRESS', default: ':8080', help: 'where /metrics is served (0 turns it off)' },
  'health-probe-bind-address': {
    env: 'SES_OPERATOR_HEALTH_PROBE_BIND_ADDRESS',
    default: ':8081',
    help: 'where /healthz and /readyz are served (0 turns it off)',
  },
  'leader-elect': {
    env: 'SES_OPERATOR_LEADER_ELECT',
    default: 'false',
    help: 'elect a leader on a coordination.k8s.io Lease so only one replica reconciles (a bare flag means true)',
  },
  'leader-election-namespace': { env: 'POD_NAMESPACE', help: "namespace of the Lease (default: the pod's namespace, from POD_NAMESPACE)" },
  'leader-election-id': { env: 'SES_OPERATOR_LEADER_ELECTION_ID', default: 'ses-operator', help: 'name of the Lease' },
  'lease-duration': { env: 'SES_OPERATOR_LEASE_DURATION', default: '15s', help: 'how long a lease is valid without renewal' },
  'renew-deadline': { env: 'SES_OPERATOR_RENEW_DEADLINE', default: '10s', help: 'how long the leader keeps trying to renew before it stops working' },
  'retry-period': { env: 'SES_OPERATOR_RETRY_PERIOD', default: '2s', help: 'how often candidates try to take, and the leader to renew, the lease' },
  'shutdown-grace': { env: 'SES_OPERATOR_SHUTDOWN_GRACE', default: '10s', help: 'on SIGTERM, how long in-flight reconciles may take to finish' },
  // REST API (src/rest-api): off unless --api-bind-address is set.
  'api-bind-address': {
    env: 'SES_OPERATOR_API_BIND_ADDRESS',
    default: '0',
    help: 'where the Channels REST API is served, e.g. :8443 (0 turns it off); plain HTTP only on a loopback address',
  },
  'api-tls-cert-file': { env: 'SES_OPERATOR_API_TLS_CERT_FILE', help: "PEM certificate (chain) of the REST API's TLS" },
  'api-tls-key-file': { env: 'SES_OPERATOR_API_TLS_KEY_FILE', help: "PEM private key of the REST API's TLS" },
  'api-refresh-timeout': {
    env: 'SES_OPERATOR_API_REFRESH_TIMEOUT',
    default: '5s',
    help: 'how long a REST API GET or verify waits for its live check, and a create for the DNS records',
  },
} as const;

export type SettingName = keyof typeof SETTINGS;

const positive = (what: string) => z.coerce.number({ error: `${what} must be a number` }).positive(`${what} must be > 0`);
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

const settingsSchema = z
  .object({
    kubeconfig: z.string().optional(),
    region: z
      .string({ error: '--region (or AWS_REGION) is required: the region of SesSetups that do not name one' })
      .regex(new RegExp(REGION_PATTERN), '--region must look like eu-west-1'),
    sesEndpoint: z.url({ error: '--ses-endpoint must be a URL such as http://127.0.0.1:4566' }).optional(),
    sesRateLimit: positive('--ses-rate-limit'),
    sesMaxAttempts: z.coerce
      .number({ error: '--ses-max-attempts must be a whole number' })
      .int('--ses-max-attempts must be a whole number')
      .min(1, '--ses-max-attempts must be at least 1')
      .max(10, '--ses-max-attempts must be at most 10'),
    dnsServers: z.string().transform((text, ctx) => {
      const servers = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const server of servers) {
        const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(server);
        if (!match || !isIP(match[1]!) || (match[2] !== undefined && (Number(match[2]) < 1 || Number(match[2]) > 65535))) {
          ctx.addIssue({ code: 'custom', message: `--dns-servers: "${server}" is not ip[:port] (names are not allowed: a resolver is an address)` });
        }
      }
      return servers;
    }),
    dnsTimeoutMs: duration('--dns-timeout'),
    concurrency: z.coerce
      .number({ error: '--concurrency must be a whole number' })
      .int('--concurrency must be a whole number')
      .min(1, '--concurrency must be at least 1')
      .max(256, '--concurrency must be at most 256'),
    referrers: z.array(z.string()).transform((texts, ctx) => {
      const kinds: ReferrerKind[] = [];
      for (const text of texts) {
        try {
          kinds.push(parseReferrerKind(text));
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: `--referrer: ${(error as Error).message}` });
        }
      }
      return kinds;
    }),
    recheckFastMs: duration('--recheck-fast'),
    recheckFastMaxMs: duration('--recheck-fast-max'),
    recheckSlowMs: duration('--recheck-slow'),
    recheckBudgetShare: z.coerce
      .number({ error: '--recheck-budget-share must be a number' })
      .gt(0, '--recheck-budget-share must be > 0')
      .max(1, '--recheck-budget-share must be at most 1'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: '--log-level must be one of trace, debug, info, warn, error' }),
    metricsBindAddress: bindAddress('--metrics-bind-address'),
    healthProbeBindAddress: bindAddress('--health-probe-bind-address'),
    leaderElect: z
      .enum(['true', 'false', '1', '0', ''], { error: '--leader-elect must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === ''),
    leaderElectionNamespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, '--leader-election-namespace must be a namespace name')
      .optional(),
    leaderElectionId: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, '--leader-election-id must be a lower-case DNS name'),
    leaseDurationMs: duration('--lease-duration'),
    renewDeadlineMs: duration('--renew-deadline'),
    retryPeriodMs: duration('--retry-period'),
    shutdownGraceMs: duration('--shutdown-grace', { allowZero: true }),
    // REST API
    apiBindAddress: bindAddress('--api-bind-address'),
    apiTlsCertFile: z.string().optional(),
    apiTlsKeyFile: z.string().optional(),
    apiRefreshTimeoutMs: duration('--api-refresh-timeout'),
  })
  .superRefine((s, ctx) => {
    if (s.leaderElect && !s.leaderElectionNamespace) {
      ctx.addIssue({ code: 'custom', message: '--leader-elect needs --leader-election-namespace (or POD_NAMESPACE)' });
    }
    if (!(s.renewDeadlineMs < s.leaseDurationMs)) ctx.addIssue({ code: 'custom', message: '--renew-deadline must be shorter than --lease-duration' });
    if (!(s.retryPeriodMs < s.renewDeadlineMs)) ctx.addIssue({ code: 'custom', message: '--retry-period must be shorter than --renew-deadline' });
    // REST API
    if (!s.apiTlsCertFile !== !s.apiTlsKeyFile) ctx.addIssue({ code: 'custom', message: '--api-tls-cert-file and --api-tls-key-file go together' });
    if (s.apiBindAddress !== '0' && !s.apiTlsCertFile && !isLoopbackBindAddress(s.apiBindAddress)) {
      ctx.addIssue({
        code: 'custom',
        message: `--api-bind-address ${s.apiBindAddress} is not a loopback address: plain HTTP would carry bearer tokens; set --api-tls-cert-file and --api-tls-key-file`,
      });
    }
  });

export type Settings = z.infer<typeof settingsSchema>;

/** Flags win over environment variables, which win over defaults; every bad value is named in one error. */
export function resolveSettings(flags: Partial<Record<SettingName, string | string[]>>, env: NodeJS.ProcessEnv): Settings {
  const pick = (name: SettingName): string | undefined => {
    const flag = flags[name];
    if (typeof flag === 'string') return flag;
    const spec = SETTINGS[name];
    return env[spec.env] ?? ('default' in spec ? spec.default : undefined);
  };
  const referrerFlags = flags.referrer;
  const referrers =
    Array.isArray(referrerFlags) && referrerFlags.length > 0
      ? referrerFlags
      : (env[SETTINGS.referrer.env] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const raw = {
    kubeconfig: pick('kubeconfig'),
    region: pick('region') ?? env.AWS_DEFAULT_REGION,
    sesEndpoint: pick('ses-endpoint') || undefined,
    sesRateLimit: pick('ses-rate-limit'),
    sesMaxAttempts: pick('ses-max-attempts'),
    dnsServers: pick('dns-servers') ?? '',
    dnsTimeoutMs: pick('dns-timeout'),
    concurrency: pick('concurrency'),
    referrers,
    recheckFastMs: pick('recheck-fast'),
    recheckFastMaxMs: pick('recheck-fast-max'),
    recheckSlowMs: pick('recheck-slow'),
    recheckBudgetShare: pick('recheck-budget-share'),
    logLevel: pick('log-level'),
    metricsBindAddress: pick('metrics-bind-address'),
    healthProbeBindAddress: pick('health-probe-bind-address'),
    leaderElect: pick('leader-elect'),
    leaderElectionNamespace: pick('leader-election-namespace') || undefined,
    leaderElectionId: pick('leader-election-id'),
    leaseDurationMs: pick('lease-duration'),
    renewDeadlineMs: pick('renew-deadline'),
    retryPeriodMs: pick('retry-period'),
    shutdownGraceMs: pick('shutdown-grace'),
    // REST API
    apiBindAddress: pick('api-bind-address'),
    apiTlsCertFile: pick('api-tls-cert-file') || undefined,
    apiTlsKeyFile: pick('api-tls-key-file') || undefined,
    apiRefreshTimeoutMs: pick('api-refresh-timeout'),
  };
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SettingsError(parsed.error.issues.map((issue) => issue.message));
  }
  return parsed.data;
}

export class SettingsError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
    this.problems = problems;
  }
}

import { isIP } from 'node:net';
import { z } from 'zod';
import { parseReferrerKind, type ReferrerKind } from '../controllers/referrers.ts';
import { REGION_PATTERN } from '../api/sessetup.ts';
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
  referrer: { env: 'SES_OPERATOR_REFERRERS', help: 'another kind that references SesSetups: group/version/resource:field.path (repeatable; env: comma-separated)' },
  'recheck-fast': { env: 'SES_OPERATOR_RECHECK_FAST', default: '10s', help: 'first re-check delay while a record is unverified (doubles up to --recheck-fast-max)' },
  'recheck-fast-max': { env: 'SES_OPERATOR_RECHECK_FAST_MAX', default: '5m', help: 'longest re-check delay while a record is unverified' },
  'recheck-slow': { env: 'SES_OPERATOR_RECHECK_SLOW', default: '1h', help: 're-check interval once every record is verified' },
  'recheck-budget-share': { env: 'SES_OPERATOR_RECHECK_BUDGET_SHARE', default: '0.5', help: 'share of the SES rate scheduled re-checks may use' },
  'log-level': { env: 'LOG_LEVEL', default: 'info', help: 'trace, debug, info, warn, error' },
} as const;

export type SettingName = keyof typeof SETTINGS;

const positive = (what: string) => z.coerce.number({ error: `${what} must be a number` }).positive(`${what} must be > 0`);
const duration = (what: string) =>
  z.string().transform((text, ctx) => {
    try {
      const ms = parseDuration(text);
      if (ms > 0) return ms;
      ctx.addIssue({ code: 'custom', message: `${what} must be longer than 0` });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${what}: ${(error as Error).message}` });
    }
    return z.NEVER;
  });

const settingsSchema = z.object({
  kubeconfig: z.string().optional(),
  region: z.string({ error: '--region (or AWS_REGION) is required: the region of SesSetups that do not name one' }).regex(new RegExp(REGION_PATTERN), '--region must look like eu-west-1'),
  sesEndpoint: z.url({ error: '--ses-endpoint must be a URL such as http://127.0.0.1:4566' }).optional(),
  sesRateLimit: positive('--ses-rate-limit'),
  sesMaxAttempts: z.coerce.number({ error: '--ses-max-attempts must be a whole number' }).int('--ses-max-attempts must be a whole number').min(1, '--ses-max-attempts must be at least 1').max(10, '--ses-max-attempts must be at most 10'),
  dnsServers: z.string().transform((text, ctx) => {
    const servers = text.split(',').map((s) => s.trim()).filter(Boolean);
    for (const server of servers) {
      const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(server);
      if (!match || !isIP(match[1]!) || (match[2] !== undefined && (Number(match[2]) < 1 || Number(match[2]) > 65535))) {
        ctx.addIssue({ code: 'custom', message: `--dns-servers: "${server}" is not ip[:port] (names are not allowed: a resolver is an address)` });
      }
    }
    return servers;
  }),
  dnsTimeoutMs: duration('--dns-timeout'),
  concurrency: z.coerce.number({ error: '--concurrency must be a whole number' }).int('--concurrency must be a whole number').min(1, '--concurrency must be at least 1').max(256, '--concurrency must be at most 256'),
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
  recheckBudgetShare: z.coerce.number({ error: '--recheck-budget-share must be a number' }).gt(0, '--recheck-budget-share must be > 0').max(1, '--recheck-budget-share must be at most 1'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: '--log-level must be one of trace, debug, info, warn, error' }),
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
  const referrers = Array.isArray(referrerFlags) && referrerFlags.length > 0
    ? referrerFlags
    : (env[SETTINGS.referrer.env] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
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

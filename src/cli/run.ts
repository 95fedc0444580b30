import { parseArgs } from 'node:util';
import { Manager } from '../controllers/manager.ts';
import { LiveDnsLookup } from '../dns/lookup.ts';
import { AwsSesGateway } from '../ses/aws-gateway.ts';
import { RateLimiter } from '../ses/rate-limiter.ts';
import { createLogger } from './logging.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { resolveSettings, SETTINGS, SettingsError, type SettingName } from './settings.ts';

export function runUsage(): string {
  const lines = Object.entries(SETTINGS).map(([name, s]) => {
    const fallback = 'default' in s && s.default !== '' ? ` (default ${s.default})` : '';
    return `  --${name.padEnd(22)} ${s.help}${fallback}\n  ${' '.repeat(24)} env: ${s.env}`;
  });
  return `Usage: ses-operator run [flags]\n\nRuns the operator. Flags (each also read from its environment variable; flags win):\n${lines.join('\n')}\n`;
}

/** `ses-operator run`: validated settings, then the manager until SIGTERM/SIGINT. */
export async function runCommand(argv: string[]): Promise<number> {
  const options = Object.fromEntries(
    Object.keys(SETTINGS).map((name) => [name, name === 'referrer' ? { type: 'string' as const, multiple: true as const } : { type: 'string' as const }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${runUsage()}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(runUsage());
    return 0;
  }
  let settings;
  try {
    settings = resolveSettings(parsed.values as Partial<Record<SettingName, string | string[]>>, process.env);
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`ses-operator: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(settings.logLevel);
  const kc = loadKubeConfig(settings.kubeconfig);
  const ses = new AwsSesGateway({
    rateLimiter: new RateLimiter({ ratePerSecond: settings.sesRateLimit }),
    endpoint: settings.sesEndpoint,
    maxAttempts: settings.sesMaxAttempts,
  });
  const manager = new Manager({
    kc,
    ses,
    dns: new LiveDnsLookup({ servers: settings.dnsServers, timeoutMs: settings.dnsTimeoutMs }),
    logger,
    defaultRegion: settings.region,
    concurrency: settings.concurrency,
    recheck: {
      fastMs: settings.recheckFastMs,
      fastMaxMs: settings.recheckFastMaxMs,
      slowMs: settings.recheckSlowMs,
      sesRatePerSecond: settings.sesRateLimit,
      budgetShare: settings.recheckBudgetShare,
    },
    referrerKinds: settings.referrers,
  });
  logger.info(
    { region: settings.region, sesEndpoint: settings.sesEndpoint ?? 'aws', sesRateLimit: settings.sesRateLimit, dnsServers: settings.dnsServers, concurrency: settings.concurrency },
    'starting',
  );
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  const abort = new AbortController();
  void stopped.then(() => abort.abort());
  try {
    await manager.start(abort.signal);
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  }
  logger.info('running');
  await stopped;
  logger.info('stopping: finishing in-flight reconciles');
  await manager.stop(10_000);
  ses.destroy();
  logger.info('stopped');
  return 0;
}

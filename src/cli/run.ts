import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Manager } from '../controllers/manager.ts';
import { CountingDnsLookup } from '../dns/counting-lookup.ts';
import { LiveDnsLookup } from '../dns/lookup.ts';
import { EventRecorder } from '../runtime/events.ts';
import { closeServer, serveEndpoints } from '../runtime/http-endpoints.ts';
import { LeaderElector } from '../runtime/leader-election.ts';
import { OperatorMetrics } from '../runtime/metrics.ts';
import { startChannelsApi } from '../rest-api/index.ts';
import { AwsSesGateway } from '../ses/aws-gateway.ts';
import { RateLimiter } from '../ses/rate-limiter.ts';
import { createLogger } from './logging.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { OPERATOR_VERSION } from '../runtime/version.ts';
import { settingsHelp } from './settings-docs.ts';
import { parseSettingsArgs, resolveSettings, SettingsError, type Settings } from './settings.ts';

export function runUsage(): string {
  return `Usage: ses-operator run [flags]\n\nRuns the operator. Flags (each also read from its environment variable; flags win):\n${settingsHelp()}\n`;
}

/** `ses-operator run`: validated settings, probes and metrics, leader election, then reconcile until SIGTERM. */
export async function runCommand(argv: string[]): Promise<number> {
  const settings = parseRunSettings(argv);
  if (typeof settings === 'number') return settings;
  const logger = createLogger(settings.logLevel);
  const kc = await loadKubeConfig(settings.kubeconfig);
  const metrics = new OperatorMetrics();
  // 100 ms worth of burst: a timer firing late (a busy event loop) would otherwise lose that capacity for good,
  // and at 50 requests/s a few ms of lateness per call is 10-20% of the quota. At SES's default 1/s it stays 1.
  const rateLimiter = new RateLimiter({ ratePerSecond: settings.sesRateLimit, burst: Math.max(1, Math.floor(settings.sesRateLimit / 10)) });
  metrics.followSesRateLimiter(rateLimiter);
  const ses = new AwsSesGateway({
    rateLimiter,
    endpoint: settings.sesEndpoint,
    maxAttempts: settings.sesMaxAttempts,
    onCall: (operation, outcome) => metrics.sesCalls.inc({ operation, outcome }),
  });
  const events = new EventRecorder(kc, { component: 'ses-operator', logger, onDropped: () => metrics.eventsDropped.inc() });
  metrics.followEvents(events);
  const manager = new Manager({
    kc,
    ses,
    events,
    dns: new CountingDnsLookup(new LiveDnsLookup({ servers: settings.dnsServers, timeoutMs: settings.dnsTimeoutMs }), (type, outcome) =>
      metrics.dnsChecks.inc({ type, outcome }),
    ),
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
    dnsEndpointNamespace: settings.dnsEndpointNamespace,
    controllerMetrics: metrics.controller,
    queueMetrics: metrics.workqueue,
    onApiWrite: (resource, verb) => metrics.apiWrites.inc({ resource, verb }),
    onVerified: (setup) => {
      const created = Date.parse(setup.metadata.creationTimestamp ?? '');
      if (Number.isFinite(created)) metrics.timeToVerified.observe((Date.now() - created) / 1000);
    },
    observeSetup: (name, setup) => (setup ? metrics.observeSetup(name, setup.status) : metrics.forgetSetup(name)),
    orphanSweep: {
      intervalMs: settings.orphanSweepIntervalMs,
      graceMs: settings.orphanSweepGraceMs,
      onSwept: (kind, region) => metrics.orphansSwept.inc({ kind, region }),
    },
  });

  metrics.followSesCheckPeriod(() => manager.sesCheckPeriodMs());

  const metricsServer = await serveEndpoints(settings.metricsBindAddress, {
    '/metrics': async () => ({ status: 200, body: await metrics.exposition(), contentType: metrics.registry.contentType }),
  });
  const probesServer = await serveEndpoints(settings.healthProbeBindAddress, {
    // Alive unless an informer keeps failing (then a restart may help).
    '/healthz': async () =>
      manager.health().healthy ? { status: 200, body: 'ok\n' } : { status: 500, body: `${JSON.stringify(manager.health().informers)}\n` },
    '/readyz': async () => (manager.health().synced ? { status: 200, body: 'ok\n' } : { status: 503, body: 'caches not synced\n' }),
  });
  // REST API: served by every replica from its warm cache (the leader runs the checks it asks for).
  const api =
    settings.apiBindAddress === '0'
      ? undefined
      : await startChannelsApi({
          kc,
          bindAddress: settings.apiBindAddress,
          tls: settings.apiTlsCertFile ? { certFile: settings.apiTlsCertFile, keyFile: settings.apiTlsKeyFile! } : undefined,
          refreshTimeoutMs: settings.apiRefreshTimeoutMs,
          setupInformer: manager.setupInformer,
          // As the finalizer and the admission policy count them: refused namespaces never hold a delete.
          referrers: { referrers: (name) => manager.countedReferrers(name) },
          registry: metrics.registry,
          logger,
          version: OPERATOR_VERSION,
        });
  logger.info(
    {
      region: settings.region,
      sesEndpoint: settings.sesEndpoint ?? 'aws',
      sesRateLimit: settings.sesRateLimit,
      dnsServers: settings.dnsServers,
      concurrency: settings.concurrency,
      orphanSweepIntervalMs: settings.orphanSweepIntervalMs,
      leaderElect: settings.leaderElect,
      metrics: metricsServer.url,
      probes: probesServer.url,
      api: api?.url,
    },
    'starting',
  );

  let lostLease = false;
  const stopped = new Promise<'signal' | 'lost'>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve('signal'));
  });
  const abort = new AbortController();
  void stopped.then(() => abort.abort());
  try {
    await manager.startInformers(abort.signal);
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  }

  let elector: LeaderElector | undefined;
  let lost: (() => void) | undefined;
  const leaseLost = new Promise<'lost'>((resolve) => (lost = () => resolve('lost')));
  if (settings.leaderElect) {
    const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
    metrics.leader.set({ name: settings.leaderElectionId }, 0);
    elector = new LeaderElector({
      kc,
      namespace: settings.leaderElectionNamespace!,
      name: settings.leaderElectionId,
      identity,
      leaseDurationMs: settings.leaseDurationMs,
      renewDeadlineMs: settings.renewDeadlineMs,
      retryPeriodMs: settings.retryPeriodMs,
      logger,
      onStartedLeading: () => manager.startControllers(),
      onStoppedLeading: () => {
        if (abort.signal.aborted) return; // our own release on shutdown
        // Like controller-runtime: a leader that lost its lease stops at once and exits, to restart clean.
        lostLease = true;
        void manager.stopControllers(0);
        lost?.();
      },
      onLeaderChange: (leading) => metrics.leader.set({ name: settings.leaderElectionId }, leading ? 1 : 0),
    });
    void elector.run();
  } else if (!abort.signal.aborted) {
    manager.startControllers();
  }
  logger.info('running');

  const reason = await Promise.race([stopped, leaseLost]);
  logger.info({ reason, graceMs: settings.shutdownGraceMs }, 'stopping: no new work; finishing in-flight reconciles');
  await manager.stopControllers(reason === 'lost' ? 0 : settings.shutdownGraceMs);
  await api?.close();
  await elector?.stop();
  await manager.stopInformers();
  await Promise.all([closeServer(metricsServer.server), closeServer(probesServer.server)]);
  ses.destroy();
  logger.info('stopped');
  return lostLease ? 1 : 0;
}

/** Flags and environment into Settings, or an exit code after printing help or the errors. */
function parseRunSettings(argv: string[]): Settings | number {
  let parsed: ReturnType<typeof parseSettingsArgs>;
  try {
    parsed = parseSettingsArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${runUsage()}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(runUsage());
    return 0;
  }
  try {
    return resolveSettings(parsed.flags, process.env);
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`ses-operator: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

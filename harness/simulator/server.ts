import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallLog } from './call-log.ts';
import { CONTROL_PREFIX, handleControl, type ControlTarget } from './control.ts';
import { DkimChecker } from './dkim-checker.ts';
import { ErrorRules, type ErrorRuleInput } from './error-rules.ts';
import { notFound, SesApiError, unknownOperation } from './errors.ts';
import { FaultInjector, parseFaults, type Faults } from './faults.ts';
import { parseJsonObject, readBody, sendJson, sendSesError } from './http-io.ts';
import { createOperations, type OperationHandler, type OperationName, type OperationRequest } from './operations.ts';
import { REGION_PATTERN, requestRegion } from './region.ts';
import { matchRoute, targetOf } from './routes.ts';
import { SimulatorAccount, type SendingStatus, type SimulatorState } from './state.ts';

export interface SesSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Where requests without a SigV4 credential scope go; signed requests use the region they were signed for. */
  region?: string;
  /** DNS servers ("host:port") the DKIM checker asks; empty means the system's resolvers. */
  dnsServers?: string[];
  dkimCheckIntervalMs?: number;
  dkimFailureAfterMs?: number;
  /** Where Easy DKIM CNAMEs point; `{region}` stands for the identity's region (dkim.{region}.amazonses.com). */
  signingHostedZone?: string;
  /** Faults in force from the start; fields left out mean "no fault". */
  faults?: Partial<Faults>;
  maxTenants?: number;
  maxIdentities?: number;
  /** How many call log entries are kept (counts cover every call regardless). */
  callLogLimit?: number;
  /** Where unexpected internal errors are reported; default stderr. */
  log?: (line: string) => void;
}

/** The simulator as a test, the fault suite or a benchmark holds it: its control interface, plus where it listens. */
export interface SesSimulator extends ControlTarget {
  readonly url: string;
  readonly port: number;
  /** The default region (see SesSimulatorOptions.region). */
  readonly region: string;
  close(): Promise<void>;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  region: 'us-east-1',
  dkimCheckIntervalMs: 5_000,
  dkimFailureAfterMs: 72 * 60 * 60 * 1000,
  signingHostedZone: 'dkim.amazonses.com',
  // SES's default quota is 10,000 identities per region; tenants get the same ceiling here.
  maxTenants: 10_000,
  maxIdentities: 10_000,
} as const;

/** Starts an HTTP server that answers the SES v2 operations the operator uses, for the real AWS SDK. */
export async function startSesSimulator(options: SesSimulatorOptions = {}): Promise<SesSimulator> {
  const settings = resolveOptions(options);
  const log = options.log ?? ((line: string) => process.stderr.write(`[ses-simulator] ${line}\n`));
  const account = new SimulatorAccount(settings.region);
  const calls = new CallLog(options.callLogLimit);
  const faults = new FaultInjector(parseFaults(options.faults ?? {}));
  const errorRules = new ErrorRules();
  // One set of operations per region's state; a reset drops the states, and with them these.
  const operationsByState = new WeakMap<SimulatorState, Record<OperationName, OperationHandler>>();
  const operationsFor = (region: string) => {
    const state = account.region(region);
    let operations = operationsByState.get(state);
    if (!operations) operationsByState.set(state, (operations = createOperations(state, settings)));
    return operations;
  };
  const dkim = new DkimChecker({
    account,
    dnsServers: options.dnsServers ?? [],
    intervalMs: settings.dkimCheckIntervalMs,
    failureAfterMs: settings.dkimFailureAfterMs,
    firstCheckDelayMs: () => faults.faults.firstDkimCheckDelayMs,
    paused: () => faults.faults.dkimChecksPaused,
    onError: (error) => log(`DKIM check failed: ${describe(error)}`),
  });

  async function handleSes(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const at = Date.now();
    const method = request.method ?? 'GET';
    const route = matchRoute(method, url.pathname);
    if (!route) {
      await readBody(request).catch(() => '');
      return sendSesError(response, unknownOperation(method, url.pathname));
    }
    let described: { target?: string; resourceArn?: string } = {};
    let region = settings.region;
    try {
      region = requestRegion(request.headers.authorization, settings.region);
      const body = route.bodyFromQuery ? route.bodyFromQuery(url.searchParams) : parseJsonObject(await readBody(request));
      const input: OperationRequest = { body, labels: route.labels, query: url.searchParams };
      described = targetOf(input);
      const { latencyMs } = faults.faults;
      if (latencyMs > 0) await sleep(latencyMs);
      const injected = faults.pickNext() ?? errorRules.pick({ operation: route.operation, region, ...described }) ?? faults.pickRate();
      if (injected) throw injected;
      sendJson(response, 200, operationsFor(region)[route.operation](input));
      calls.add({ operation: route.operation, region, status: 200, at, ...described });
    } catch (error) {
      const sesError = error instanceof SesApiError ? error : new SesApiError('InternalFailure', 500, 'Internal simulator error');
      if (!(error instanceof SesApiError)) log(`${route.operation} failed: ${describe(error)}`);
      sendSesError(response, sesError);
      calls.add({ operation: route.operation, region, status: sesError.status, error: sesError.errorType, at, ...described });
    }
  }

  const simulatorControl = {
    calls: (sinceSeq = 0, region?: string) => calls.report(sinceSeq, region),
    state: () => account.snapshot(),
    faults: () => faults.faults,
    setFaults(next: Partial<Faults>) {
      faults.set(parseFaults(next));
      return faults.faults;
    },
    reset() {
      account.clear();
      calls.clear();
      faults.set(parseFaults({}));
      errorRules.clear();
    },
    checkDkimNow: () => dkim.checkNow(),
    setTenantSendingStatus(tenantName: string, sendingStatus: SendingStatus, region = settings.region) {
      const tenant = account.region(region).tenants.get(tenantName);
      if (!tenant) throw notFound(`Tenant ${tenantName} does not exist in ${region}`);
      tenant.sendingStatus = sendingStatus;
      return structuredClone(tenant);
    },
    errorRules: () => errorRules.list(),
    injectError: (rule: ErrorRuleInput) => errorRules.add(rule),
    clearErrors: (id?: number) => errorRules.clear(id),
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://simulator');
    const handled = url.pathname.startsWith(CONTROL_PREFIX) ? handleControl(request, response, url, simulatorControl) : handleSes(request, response, url);
    handled.catch((error: unknown) => {
      log(`request ${request.method} ${url.pathname} failed: ${describe(error)}`);
      if (!response.headersSent) sendJson(response, 500, { message: 'Internal simulator error' });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  dkim.start();

  const port = (server.address() as AddressInfo).port;
  const urlHost = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    region: settings.region,
    ...simulatorControl,
    close() {
      closing ??= (async () => {
        await dkim.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive sockets from SDK clients would otherwise hold close() open.
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

function resolveOptions(options: SesSimulatorOptions) {
  const settings = {
    port: options.port ?? 0,
    host: options.host ?? DEFAULTS.host,
    region: options.region ?? DEFAULTS.region,
    dkimCheckIntervalMs: options.dkimCheckIntervalMs ?? DEFAULTS.dkimCheckIntervalMs,
    dkimFailureAfterMs: options.dkimFailureAfterMs ?? DEFAULTS.dkimFailureAfterMs,
    signingHostedZone: options.signingHostedZone ?? DEFAULTS.signingHostedZone,
    maxTenants: options.maxTenants ?? DEFAULTS.maxTenants,
    maxIdentities: options.maxIdentities ?? DEFAULTS.maxIdentities,
  };
  const wholeAtLeast = (name: keyof typeof settings, min: number) => {
    const value = settings[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new Error(`SES simulator option ${name} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
    }
  };
  wholeAtLeast('port', 0);
  if (settings.port > 65_535) throw new Error(`SES simulator option port must be at most 65535, got ${settings.port}`);
  wholeAtLeast('dkimCheckIntervalMs', 1);
  wholeAtLeast('dkimFailureAfterMs', 0);
  wholeAtLeast('maxTenants', 0);
  wholeAtLeast('maxIdentities', 0);
  if (!REGION_PATTERN.test(settings.region)) {
    throw new Error(`SES simulator option region must look like us-east-1, got ${JSON.stringify(settings.region)}`);
  }
  if (!/^[A-Za-z0-9.-]+$/.test(settings.signingHostedZone.replaceAll('{region}', settings.region))) {
    throw new Error(`SES simulator option signingHostedZone must be a DNS name, got ${JSON.stringify(settings.signingHostedZone)}`);
  }
  return settings;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

import type { Registry } from 'prom-client';
import type { SesSetup } from '../api/sessetup.ts';
import type { Informer } from '../runtime/informer.ts';
import type { KubeAccess } from '../runtime/kube-http.ts';
import type { Logger } from '../runtime/logger.ts';
import { KubeAuthorizer } from './auth.ts';
import { Channels } from './channels.ts';
import { ApiMetrics } from './metrics.ts';
import { startRestApi, type RestApiServer } from './server.ts';
import { SetupCache } from './setup-cache.ts';

export interface ChannelsApiOptions {
  kc: KubeAccess;
  bindAddress: string;
  tls?: { certFile: string; keyFile: string };
  refreshTimeoutMs: number;
  /** The manager's SesSetup informer and referrer index: the facade adds no watch of its own. */
  setupInformer: Informer<SesSetup>;
  referrers: { referrers(setupName: string): string[] };
  registry: Registry;
  logger: Logger;
  version: string;
}

/** The original Channels REST API on top of the operator (`--api-bind-address`). */
export function startChannelsApi(o: ChannelsApiOptions): Promise<RestApiServer> {
  const cache = new SetupCache(o.setupInformer);
  const channels = new Channels({ kc: o.kc, cache, referrers: (name) => o.referrers.referrers(name), refreshTimeoutMs: o.refreshTimeoutMs });
  return startRestApi({
    bindAddress: o.bindAddress,
    tls: o.tls,
    channels,
    auth: new KubeAuthorizer(o.kc),
    ready: () => cache.synced(),
    metrics: new ApiMetrics(o.registry),
    logger: o.logger.child({ component: 'rest-api' }),
    version: o.version,
  });
}

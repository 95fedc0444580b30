import { API_VERSION, GROUP, SES_SETUP, VERIFY_ANNOTATION, VERSION } from '../api/group.ts';
import type { SesSetup } from '../api/sessetup.ts';
import { ApiError, type KubeAccess, objectPath, requestJson } from '../runtime/kube-http.ts';
import type { Caller } from './auth.ts';
import { ApiProblem } from './errors.ts';
import { setupNameFor } from './naming.ts';
import { RefreshCoordinator } from './refresh.ts';
import type { CreateBody, SetupDetail, SetupList } from './schemas.ts';
import type { SetupCache } from './setup-cache.ts';
import { detailOf, summaryOf } from './views.ts';

const SETUPS = { group: GROUP, version: VERSION, plural: SES_SETUP.plural };
/** Who asked for a setup through the REST API (the API server's audit log shows the operator's account). */
export const REQUESTED_BY_ANNOTATION = `${GROUP}/requested-by`;

export interface ChannelsOptions {
  kc: KubeAccess;
  cache: SetupCache;
  /** The use cases (and other referrers) of a setup, from the operator's referrer index. */
  referrers: (setupName: string) => string[];
  /** Bound of a live check and of the wait for records after create. */
  refreshTimeoutMs: number;
}

/**
 * The five Channels endpoints on top of the operator: reads from the informer cache, writes
 * through the API server (as the operator's own account, after the caller was authorized).
 */
export class Channels {
  readonly #o: ChannelsOptions;
  readonly #refresh: RefreshCoordinator;

  constructor(options: ChannelsOptions) {
    this.#o = options;
    this.#refresh = new RefreshCoordinator({
      cache: options.cache,
      timeoutMs: options.refreshTimeoutMs,
      requestCheck: (setup, request) =>
        this.#write(() =>
          requestJson(this.#o.kc, 'PATCH', objectPath(SETUPS, undefined, setup.metadata.name), {
            // The UID makes the patch a precondition: a setup re-created under the same name is not touched.
            body: { metadata: { uid: setup.metadata.uid, annotations: { [VERIFY_ANNOTATION]: request } } },
            contentType: 'application/merge-patch+json',
          }),
        ),
    });
  }

  list(offset: number, limit: number): SetupList {
    const { cache } = this.#o;
    const items = cache
      .page(offset, limit)
      .map((name) => cache.get(name))
      .filter((setup): setup is SesSetup => setup !== undefined)
      .map(summaryOf);
    const hasMore = offset + limit < cache.total;
    return { items, has_more: hasMore, continuation_token: hasMore ? offset + limit : null, total: cache.total };
  }

  async create(body: CreateBody, caller: Caller): Promise<{ status: 201 | 202; detail: SetupDetail }> {
    const { cache, kc, refreshTimeoutMs } = this.#o;
    const taken = (what: string, value: string, by: string) =>
      new ApiProblem(409, 'conflict', `${what} ${value} is already used by SesSetup ${by} (id ${cache.get(by)?.metadata.uid ?? 'unknown'})`);
    const byTenant = cache.nameOfTenant(body.tenant_name);
    if (byTenant) throw taken('tenant_name', body.tenant_name, byTenant);
    const byDomain = cache.nameOfDomain(body.domain_identity);
    if (byDomain) throw taken('domain_identity', body.domain_identity, byDomain);
    const name = setupNameFor(body.tenant_name);
    const wait = cache.waitFor(name, (s) => (s?.status?.dnsRecords?.length ?? 0) > 0, refreshTimeoutMs);
    let created: SesSetup;
    try {
      created = await this.#write(() =>
        requestJson<SesSetup>(kc, 'POST', objectPath(SETUPS), {
          body: {
            apiVersion: API_VERSION,
            kind: SES_SETUP.kind,
            metadata: { name, annotations: { [REQUESTED_BY_ANNOTATION]: caller.username } },
            spec: { tenantName: body.tenant_name, domainIdentity: body.domain_identity },
          },
        }),
      );
    } catch (error) {
      wait.cancel();
      throw error;
    }
    const withRecords = await wait.done;
    if (withRecords && withRecords.metadata.uid === created.metadata.uid) {
      return { status: 201, detail: detailOf(withRecords, { refreshed: true, notice: null }) };
    }
    const latest = cache.get(name);
    const setup = latest && latest.metadata.uid === created.metadata.uid ? latest : created;
    const notice = `created; the DNS records were not in status within ${refreshTimeoutMs / 1000}s (the operator works through SES at its rate limit): GET the setup to read them`;
    return { status: 202, detail: detailOf(setup, { refreshed: false, notice }) };
  }

  async get(id: string): Promise<SetupDetail> {
    const outcome = await this.#refresh.refresh(this.#byId(id));
    return detailOf(outcome.setup, { refreshed: outcome.refreshed, notice: outcome.notice });
  }

  async delete(id: string): Promise<void> {
    const setup = this.#byId(id);
    if (setup.metadata.deletionTimestamp) return; // already asked: teardown runs behind the finalizer
    const name = setup.metadata.name;
    const referrers = this.#o.referrers(name);
    const counted = setup.status?.usedByCount ?? 0;
    if (referrers.length > 0 || counted > 0) {
      const shown = referrers.length > 0 ? referrers : (setup.status?.usedBy ?? []);
      throw new ApiProblem(409, 'setup_in_use', `SesSetup ${name} is used by ${Math.max(shown.length, counted)}: ${shown.join(', ')}; delete those first`, {
        referrers: shown,
      });
    }
    await this.#write(() =>
      requestJson(this.#o.kc, 'DELETE', objectPath(SETUPS, undefined, name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: setup.metadata.uid } },
      }),
    );
  }

  #byId(id: string): SesSetup {
    const name = this.#o.cache.nameOfUid(id);
    const setup = name ? this.#o.cache.get(name) : undefined;
    if (!setup) throw new ApiProblem(404, 'not_found', `no SES setup with id ${id}`);
    return setup;
  }

  /** API server refusals in the API's own words. */
  async #write<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === 404) throw new ApiProblem(404, 'not_found', `the SES setup no longer exists: ${error.message}`);
      if (error.code === 409) throw new ApiProblem(409, 'conflict', error.message);
      // The admission policy that refuses deleting a setup in use (deploy/): its message names the use case.
      if (error.code === 403 && /ValidatingAdmissionPolicy/.test(error.message)) throw new ApiProblem(409, 'setup_in_use', error.message);
      if (error.code === 422) throw new ApiProblem(422, 'validation_failed', `the Kubernetes API refused the setup: ${error.message}`);
      throw new ApiProblem(503, 'kubernetes_unavailable', `the Kubernetes API did not complete the request: ${error.message}`);
    }
  }
}

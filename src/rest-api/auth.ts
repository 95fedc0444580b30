import { createHash } from 'node:crypto';
import { GROUP, SES_SETUP } from '../api/group.ts';
import { type KubeAccess, requestJson } from '../runtime/kube-http.ts';
import { ReviewCache } from './review-cache.ts';

/** Who the caller is, as the API server's TokenReview says. */
export interface Caller {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The original API's permissions, as Kubernetes verbs on sessetups (all of them must be allowed). */
export const PERMISSIONS = {
  'Channel.view': ['get', 'list'],
  'Channel.create': ['create'],
  'Channel.delete': ['delete'],
} as const;
export type Permission = keyof typeof PERMISSIONS;

/** How long a review answer is reused: a revoked token or RoleBinding takes effect within this. */
export const REVIEW_CACHE_TTL_MS = 10_000;

export interface Authorizer {
  /** The caller behind a bearer token, or undefined when the API server does not accept the token. */
  authenticate(token: string): Promise<Caller | undefined>;
  /** The verbs of the permission the caller lacks ([] when allowed). */
  missingVerbs(caller: Caller, permission: Permission): Promise<string[]>;
}

/**
 * Authentication with TokenReview and authorization with SubjectAccessReview (the pattern of
 * kube-rbac-proxy and of aggregated API servers): any token the cluster accepts works, and
 * RoleBindings decide, so the facade keeps no users or keys of its own.
 */
export class KubeAuthorizer implements Authorizer {
  readonly #kc: KubeAccess;
  readonly #tokens: ReviewCache<Caller | undefined>;
  readonly #access: ReviewCache<boolean>;

  constructor(kc: KubeAccess, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#kc = kc;
    const cache = { ttlMs: options.ttlMs ?? REVIEW_CACHE_TTL_MS, now: options.now };
    this.#tokens = new ReviewCache(cache);
    this.#access = new ReviewCache(cache);
  }

  authenticate(token: string): Promise<Caller | undefined> {
    // Keyed by a hash: the cache never holds a token itself.
    const key = createHash('sha256').update(token).digest('hex');
    return this.#tokens.get(key, async () => {
      const review = await requestJson<{ status?: { authenticated?: boolean; user?: Caller } }>(
        this.#kc,
        'POST',
        '/apis/authentication.k8s.io/v1/tokenreviews',
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } },
      );
      const user = review.status?.user;
      return review.status?.authenticated && user?.username ? user : undefined;
    });
  }

  async missingVerbs(caller: Caller, permission: Permission): Promise<string[]> {
    const verbs = PERMISSIONS[permission];
    const allowed = await Promise.all(verbs.map((verb) => this.#allowed(caller, verb)));
    return verbs.filter((_, i) => !allowed[i]);
  }

  #allowed(caller: Caller, verb: string): Promise<boolean> {
    const key = JSON.stringify([caller.username, caller.uid, caller.groups, caller.extra, verb]);
    return this.#access.get(key, async () => {
      const review = await requestJson<{ status?: { allowed?: boolean } }>(this.#kc, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: caller.username,
            uid: caller.uid,
            groups: caller.groups,
            extra: caller.extra,
            resourceAttributes: { group: GROUP, resource: SES_SETUP.plural, verb },
          },
        },
      });
      return review.status?.allowed === true;
    });
  }
}

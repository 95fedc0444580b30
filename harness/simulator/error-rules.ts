import { accessDenied, concurrentModification, limitExceeded, notFound, type SesApiError } from './errors.ts';
import { InvalidFaultsError } from './faults.ts';
import { resourceNameOf } from './routes.ts';
import { ACCOUNT_ID } from './state.ts';

/** The SES errors a test can make an operation answer, with the text AWS's model gives each. */
const INJECTABLE = {
  AccessDeniedException: (call: MatchedCall, message?: string) =>
    accessDenied(
      message ??
        `User: arn:aws:iam::${ACCOUNT_ID}:user/ses-simulator is not authorized to perform: ses:${call.operation} on resource: ${resourceArnOf(call)} ` +
          `because no identity-based policy allows the ses:${call.operation} action`,
    ),
  ConcurrentModificationException: (_call: MatchedCall, message?: string) =>
    concurrentModification(message ?? 'The resource is being modified by another operation or thread.'),
  LimitExceededException: (_call: MatchedCall, message?: string) => limitExceeded(message ?? 'There are too many instances of the specified resource type.'),
  NotFoundException: (_call: MatchedCall, message?: string) => notFound(message ?? "The resource you attempted to access doesn't exist."),
} as const;
export type InjectableError = keyof typeof INJECTABLE;
export const INJECTABLE_ERRORS = Object.keys(INJECTABLE) as InjectableError[];

export interface ErrorRuleInput {
  /** The SES operation that fails, e.g. `CreateTenant`. */
  operation: string;
  error: InjectableError;
  /** Only calls about this tenant or identity (its name or ARN); all calls of the operation if left out. */
  resource?: string;
  /** Only calls signed for this region. */
  region?: string;
  /** Fail this many matching calls, then the rule is gone; until cleared if left out. */
  count?: number;
  /** Replaces the default error text. */
  message?: string;
}

export interface ErrorRule extends ErrorRuleInput {
  id: number;
  /** Matching calls still to fail; null means until cleared. */
  remaining: number | null;
  /** Calls this rule has failed so far. */
  hits: number;
}

export interface MatchedCall {
  operation: string;
  region: string;
  target?: string;
  resourceArn?: string;
}

/** Reads a rule from untrusted JSON; `operations` are the operation names the simulator serves. */
export function parseErrorRule(input: unknown, operations: readonly string[]): ErrorRuleInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new InvalidFaultsError('an error rule must be a JSON object');
  const { operation, error, resource, region, count, message, ...rest } = input as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new InvalidFaultsError(`unknown error rule field "${extra}": expected operation, error, resource, region, count, message`);
  if (typeof operation !== 'string' || !operations.includes(operation)) {
    throw new InvalidFaultsError(`operation must be one of ${operations.join(', ')}, got ${JSON.stringify(operation ?? null)}`);
  }
  if (typeof error !== 'string' || !(INJECTABLE_ERRORS as string[]).includes(error)) {
    throw new InvalidFaultsError(`error must be one of ${INJECTABLE_ERRORS.join(', ')}, got ${JSON.stringify(error ?? null)}`);
  }
  const rule: ErrorRuleInput = { operation, error: error as InjectableError };
  const text = (value: unknown, name: string) => {
    if (typeof value !== 'string' || value.length === 0) throw new InvalidFaultsError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
    return value;
  };
  if (resource !== undefined) rule.resource = text(resource, 'resource');
  if (region !== undefined) rule.region = text(region, 'region');
  if (message !== undefined) rule.message = text(message, 'message');
  if (count !== undefined) {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1)
      throw new InvalidFaultsError(`count must be a whole number >= 1, got ${JSON.stringify(count)}`);
    rule.count = count;
  }
  return rule;
}

/** Injected SES errors: each rule fails the calls it matches until its count runs out or it is cleared. */
export class ErrorRules {
  #rules: ErrorRule[] = [];
  #nextId = 1;

  add(input: ErrorRuleInput): ErrorRule {
    const rule: ErrorRule = { ...input, id: this.#nextId++, remaining: input.count ?? null, hits: 0 };
    this.#rules.push(rule);
    return { ...rule };
  }

  list(): ErrorRule[] {
    return this.#rules.map((rule) => ({ ...rule }));
  }

  /** Removes one rule, or every rule when `id` is left out; answers how many were removed. */
  clear(id?: number): number {
    const before = this.#rules.length;
    this.#rules = id === undefined ? [] : this.#rules.filter((rule) => rule.id !== id);
    return before - this.#rules.length;
  }

  /** The error for this call from the oldest matching rule, counting it down; undefined if none matches. */
  pick(call: MatchedCall): SesApiError | undefined {
    const rule = this.#rules.find((candidate) => matches(candidate, call));
    if (!rule) return undefined;
    rule.hits += 1;
    if (rule.remaining !== null && --rule.remaining === 0) this.clear(rule.id);
    return INJECTABLE[rule.error](call, rule.message);
  }
}

function matches(rule: ErrorRule, call: MatchedCall): boolean {
  if (rule.operation !== call.operation) return false;
  if (rule.region !== undefined && rule.region !== call.region) return false;
  if (rule.resource === undefined) return true;
  if (rule.resource === call.resourceArn) return true;
  const wanted = rule.resource.startsWith('arn:') ? resourceNameOf(rule.resource) : rule.resource;
  return wanted !== undefined && call.target !== undefined && wanted.toLowerCase() === call.target.toLowerCase();
}

/** The ARN IAM would name: the call's own, else the identity or tenant it is about (tenant names hold no "." or "@"). */
function resourceArnOf(call: MatchedCall): string {
  if (call.resourceArn) return call.resourceArn;
  const base = `arn:aws:ses:${call.region}:${ACCOUNT_ID}`;
  if (!call.target) return `${base}:*`;
  return /[.@]/.test(call.target) ? `${base}:identity/${call.target}` : `${base}:tenant/${call.target}`;
}

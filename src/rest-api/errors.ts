import type { z } from 'zod';
import type { ErrorBody } from './schemas.ts';

type ErrorDetails = Omit<ErrorBody['error'], 'status' | 'code' | 'message'>;

/** An answer other than success, in the API's one error shape: { error: { status, code, message, ... } }. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetails;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, details: ErrorDetails = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  body(): ErrorBody {
    return { error: { status: this.status, code: this.code, message: this.message, ...this.details } };
  }
}

/** 422 naming every bad field, e.g. "limit: must be <= 20"; `where` prefixes nothing for body fields. */
export function validationProblem(issues: z.core.$ZodIssue[], where: 'body' | 'query' | 'path', input: unknown): ApiProblem {
  // One entry per field, every problem of it ("must not be empty, may contain only ...").
  const byField = new Map<string, string[]>();
  for (const issue of issues) {
    const field = issue.path.length > 0 ? issue.path.join('.') : where;
    const message = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined ? 'is required' : issue.message;
    byField.set(field, [...(byField.get(field) ?? []), message]);
  }
  const fields = [...byField].map(([field, messages]) => ({ field, message: messages.join(', ') }));
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new ApiProblem(422, 'validation_failed', `invalid ${where === 'body' ? 'request body' : `${where} parameters`}: ${summary}`, { fields });
}

/** Parses with a zod schema or throws the 422. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query' | 'path'): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationProblem(parsed.error.issues, where, input);
  return parsed.data;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

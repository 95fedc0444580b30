import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallsReport } from './call-log.ts';
import { parseErrorRule, type ErrorRule, type ErrorRuleInput } from './error-rules.ts';
import { SesApiError } from './errors.ts';
import { InvalidFaultsError, parseFaults, type Faults } from './faults.ts';
import { parseJsonObject, readBody, sendJson } from './http-io.ts';
import { OPERATION_NAMES } from './operations.ts';
import type { SendingStatus, StateSnapshot, TenantRecord } from './state.ts';
import { oneOf } from './validation.ts';

/** The prefix of the test/benchmark control interface; SES paths all start with /v2/. */
export const CONTROL_PREFIX = '/_simulator/';

const SENDING_STATUSES: readonly SendingStatus[] = ['ENABLED', 'DISABLED', 'REINSTATED'];

/** What the control interface acts on: the running simulator. */
export interface ControlTarget {
  /** SES calls answered so far; `sinceSeq` keeps only the log entries after it, `region` only that region's. */
  calls(sinceSeq?: number, region?: string): CallsReport;
  state(): StateSnapshot;
  faults(): Faults;
  /** Replaces every fault setting (fields left out mean "no fault") and returns what is now in force. */
  setFaults(faults: Partial<Faults>): Faults;
  /** Forgets every tenant, identity, association, logged call, fault and error rule, in every region. */
  reset(): void;
  /** Runs one DKIM and MAIL FROM check pass now (after any pass in progress). */
  checkDkimNow(): Promise<void>;
  /** Sets a tenant's SendingStatus as SES does when it pauses or reinstates one; throws NotFound if there is none. */
  setTenantSendingStatus(tenantName: string, sendingStatus: SendingStatus, region?: string): TenantRecord;
  /** The injected-error rules in force. */
  errorRules(): ErrorRule[];
  /** Makes an operation (optionally for one resource or region, optionally N times) answer a modeled SES error. */
  injectError(rule: ErrorRuleInput): ErrorRule;
  /** Removes one error rule, or all when `id` is left out; answers how many were removed. */
  clearErrors(id?: number): number;
}

const ENDPOINTS = ['health', 'calls', 'state', 'faults', 'reset', 'dkim-check', 'tenant-sending-status', 'errors'];

/** Serves /_simulator/*: plain JSON in and out, never counted as SES calls. */
export async function handleControl(request: IncomingMessage, response: ServerResponse, url: URL, target: ControlTarget): Promise<void> {
  const method = request.method ?? 'GET';
  const path = url.pathname.slice(CONTROL_PREFIX.length);
  const fail = (status: number, message: string) => sendJson(response, status, { message });
  const body = async () => parseJsonObject(await readBody(request));
  try {
    if (path === 'health' && method === 'GET') return sendJson(response, 200, { ok: true });
    if (path === 'calls' && method === 'GET') {
      const since = url.searchParams.get('since');
      const sinceSeq = since === null ? 0 : Number(since);
      if (!Number.isInteger(sinceSeq) || sinceSeq < 0) return fail(400, `since must be a whole number >= 0, got "${since}"`);
      return sendJson(response, 200, target.calls(sinceSeq, url.searchParams.get('region') ?? undefined));
    }
    if (path === 'state' && method === 'GET') return sendJson(response, 200, target.state());
    if (path === 'faults' && method === 'GET') return sendJson(response, 200, target.faults());
    if (path === 'faults' && method === 'PUT') return sendJson(response, 200, target.setFaults(parseFaults(await body())));
    if (path === 'reset' && method === 'POST') {
      target.reset();
      return sendJson(response, 200, {});
    }
    if (path === 'dkim-check' && method === 'POST') {
      await target.checkDkimNow();
      const dkimStatuses: Record<string, number> = {};
      const mailFromStatuses: Record<string, number> = {};
      for (const identity of target.state().identities) {
        dkimStatuses[identity.dkim.status] = (dkimStatuses[identity.dkim.status] ?? 0) + 1;
        if (identity.mailFrom) mailFromStatuses[identity.mailFrom.status] = (mailFromStatuses[identity.mailFrom.status] ?? 0) + 1;
      }
      return sendJson(response, 200, { dkimStatuses, mailFromStatuses });
    }
    if (path === 'tenant-sending-status' && method === 'POST') {
      const { tenantName, sendingStatus, region } = await body();
      if (typeof tenantName !== 'string' || tenantName.length === 0) return fail(400, 'tenantName is required');
      if (region !== undefined && typeof region !== 'string') return fail(400, 'region must be a string');
      const status = oneOf(sendingStatus, SENDING_STATUSES, 'sendingStatus');
      const tenant = target.setTenantSendingStatus(tenantName, status, region);
      return sendJson(response, 200, { region: tenant.region, tenantName: tenant.name, sendingStatus: tenant.sendingStatus });
    }
    if (path === 'errors' && method === 'GET') return sendJson(response, 200, { rules: target.errorRules() });
    if (path === 'errors' && method === 'POST') return sendJson(response, 200, target.injectError(parseErrorRule(await body(), OPERATION_NAMES)));
    if (path === 'errors' && method === 'DELETE') return sendJson(response, 200, { removed: target.clearErrors() });
    const oneRule = /^errors\/(\d+)$/.exec(path);
    if (oneRule && method === 'DELETE') {
      const removed = target.clearErrors(Number(oneRule[1]));
      return removed === 0 ? fail(404, `No error rule ${oneRule[1]}`) : sendJson(response, 200, { removed });
    }
    const known = ENDPOINTS.includes(path) || oneRule !== null;
    return fail(known ? 405 : 404, known ? `${method} is not allowed on ${url.pathname}` : `No control endpoint ${url.pathname}`);
  } catch (error) {
    if (error instanceof InvalidFaultsError) return fail(400, error.message);
    if (error instanceof SesApiError) return fail(error.status === 404 ? 404 : 400, error.message);
    throw error;
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallsReport } from './call-log.ts';
import { SesApiError } from './errors.ts';
import { InvalidFaultsError, parseFaults, type Faults } from './faults.ts';
import { parseJsonObject, readBody, sendJson } from './http-io.ts';
import type { StateSnapshot } from './state.ts';

/** The prefix of the test/benchmark control interface; SES paths all start with /v2/. */
export const CONTROL_PREFIX = '/_simulator/';

export interface ControlTarget {
  calls(sinceSeq?: number): CallsReport;
  state(): StateSnapshot;
  faults(): Faults;
  setFaults(faults: Partial<Faults>): Faults;
  reset(): void;
  checkDkimNow(): Promise<void>;
}

/** Serves /_simulator/*: plain JSON in and out, never counted as SES calls. */
export async function handleControl(request: IncomingMessage, response: ServerResponse, url: URL, target: ControlTarget): Promise<void> {
  const method = request.method ?? 'GET';
  const path = url.pathname.slice(CONTROL_PREFIX.length);
  const fail = (status: number, message: string) => sendJson(response, status, { message });
  try {
    if (path === 'health' && method === 'GET') return sendJson(response, 200, { ok: true });
    if (path === 'calls' && method === 'GET') {
      const since = url.searchParams.get('since');
      const sinceSeq = since === null ? 0 : Number(since);
      if (!Number.isInteger(sinceSeq) || sinceSeq < 0) return fail(400, `since must be a whole number >= 0, got "${since}"`);
      return sendJson(response, 200, target.calls(sinceSeq));
    }
    if (path === 'state' && method === 'GET') return sendJson(response, 200, target.state());
    if (path === 'faults' && method === 'GET') return sendJson(response, 200, target.faults());
    if (path === 'faults' && method === 'PUT') {
      const faults = parseFaults(parseJsonObject(await readBody(request)));
      return sendJson(response, 200, target.setFaults(faults));
    }
    if (path === 'reset' && method === 'POST') {
      target.reset();
      return sendJson(response, 200, {});
    }
    if (path === 'dkim-check' && method === 'POST') {
      await target.checkDkimNow();
      const statuses: Record<string, number> = {};
      for (const identity of target.state().identities) statuses[identity.dkim.status] = (statuses[identity.dkim.status] ?? 0) + 1;
      return sendJson(response, 200, { dkimStatuses: statuses });
    }
    const known = ['health', 'calls', 'state', 'faults', 'reset', 'dkim-check'].includes(path);
    return fail(known ? 405 : 404, known ? `${method} is not allowed on ${url.pathname}` : `No control endpoint ${url.pathname}`);
  } catch (error) {
    if (error instanceof InvalidFaultsError || error instanceof SesApiError) return fail(400, error.message);
    throw error;
  }
}

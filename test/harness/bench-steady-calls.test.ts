import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../harness/simulator/call-log.ts';
import { classifySteadyCalls, pagesFor, type SweepsSeen } from '../../bench/steady-calls.ts';

let seq = 0;
const call = (operation: string, target?: string, resourceArn?: string): CallRecord => ({
  seq: ++seq,
  operation,
  region: 'eu-west-1',
  status: 200,
  at: seq,
  ...(target ? { target } : {}),
  ...(resourceArn ? { resourceArn } : {}),
});
const arn = (domain: string) => `arn:aws:ses:eu-west-1:123456789012:identity/${domain}`;
const recheck = (tenant: string, domain: string) => [
  call('GetTenant', tenant),
  call('GetEmailIdentity', domain),
  call('ListResourceTenants', domain, arn(domain)),
];

/** Two live setups; SES also holds one foreign tenant. One sweep: 1 tenant page, 1 identity page. */
const live = new Set(['a_1', 'mail.a-1.test', 'b_2', 'mail.b-2.test']);
const oneSweep = (calls: number): SweepsSeen => ({ sweeps: 1, calls, pagesPerSweep: { ListTenants: 1, ListEmailIdentities: 1 } });
const sweepLists = () => [call('ListTenants'), call('ListEmailIdentities')];

describe('classifySteadyCalls (the scale benchmark steady-state window)', () => {
  it('counts a due re-check and a sweep that reads only the unrecorded tenant as necessary', () => {
    const log = [...recheck('a_1', 'mail.a-1.test'), ...sweepLists(), call('GetTenant', 'foreign')];
    const result = classifySteadyCalls(log, live, oneSweep(3));
    expect(result.unnecessary).toBe(0);
    expect(result.readBacks).toBe(3);
    expect(result.unrecorded).toBe(1);
    expect(result.lists).toEqual({ ListTenants: 1, ListEmailIdentities: 1 });
  });

  it("finds a sweep read of a live setup's resource that no re-check read, from the sweep's own call count", () => {
    // The sweep's log line says 3 calls; the harness sees 2 lists and nothing unrecorded: one went to a live resource.
    const log = [...sweepLists(), call('GetTenant', 'b_2')];
    const result = classifySteadyCalls(log, live, oneSweep(3));
    expect(result.why.sweepReadsOfLive).toBe(1);
    expect(result.unnecessary).toBe(1);
  });

  it('counts a second read of one resource, and a sweep read of what a re-check read, once', () => {
    const log = [...recheck('a_1', 'mail.a-1.test'), ...sweepLists(), call('GetEmailIdentity', 'MAIL.A-1.TEST')];
    const result = classifySteadyCalls(log, live, oneSweep(3));
    expect(result.why.secondReads).toBe(1);
    expect(result.why.sweepReadsOfLive).toBe(1);
    expect(result.unnecessary).toBe(1);
  });

  it('counts list pages beyond what the sweeps need, and any other operation', () => {
    const log = [...sweepLists(), call('ListTenants'), call('TagResource', 'a_1'), call('GetTenant', 'foreign')];
    const result = classifySteadyCalls(log, live, oneSweep(4));
    expect(result.why.extraPages).toBe(1);
    expect(result.why.otherOperations).toEqual({ TagResource: 1 });
    expect(result.unnecessary).toBe(2);
  });

  it("counts reads of unrecorded resources that the sweep's own count does not cover", () => {
    const log = [...sweepLists(), call('GetEmailIdentity', 'mail.foreign.test')];
    const result = classifySteadyCalls(log, live, oneSweep(2));
    expect(result.why.unrecordedNotBySweep).toBe(1);
    expect(result.unnecessary).toBe(1);
  });

  it('allows no list call at all without a sweep', () => {
    const result = classifySteadyCalls(sweepLists(), live, { sweeps: 0, calls: 0, pagesPerSweep: { ListTenants: 1, ListEmailIdentities: 1 } });
    expect(result.why.extraPages).toBe(2);
    expect(result.unnecessary).toBe(2);
  });
});

describe('pagesFor', () => {
  it('is one page per full or partial page, and one for an empty list', () => {
    expect(pagesFor(0, 100)).toBe(1);
    expect(pagesFor(100, 100)).toBe(1);
    expect(pagesFor(101, 100)).toBe(2);
    expect(pagesFor(10_001, 1000)).toBe(11);
  });
});

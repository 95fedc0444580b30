import type { DnsLookup, LookupResult } from '../../../src/dns/lookup.ts';

/** DNS as a map of published records: a name with no record answers NXDOMAIN. */
export class FakeDns implements DnsLookup {
  /** "TYPE name" -> answers. */
  readonly records = new Map<string, string[]>();
  /** Every lookup asked, as "TYPE name", in order. */
  readonly lookups: string[] = [];

  async lookup(type: 'CNAME' | 'MX' | 'TXT', name: string): Promise<LookupResult> {
    this.lookups.push(`${type} ${name}`);
    const answers = this.records.get(`${type} ${name}`);
    return answers ? { ok: true, answers: [...answers] } : { ok: false, failure: 'NXDOMAIN', detail: 'no such name' };
  }

  /** Publishes each record as a customer would at their DNS host (one answer per name and type). */
  publish(records: readonly { type: string; name: string; value: string }[]): void {
    for (const record of records) this.records.set(`${record.type} ${record.name}`, [record.value]);
  }

  /** Publishes the records a SesSetup's status asks for. */
  publishFor(object: { status?: { dnsRecords?: { type: string; name: string; value: string }[] } }): void {
    this.publish(object.status?.dnsRecords ?? []);
  }
}

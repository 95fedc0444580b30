export interface CallRecord {
  /** Order of completion, from 1. */
  seq: number;
  operation: string;
  /** The region the call was signed for (the simulator's default region for unsigned calls). */
  region: string;
  /** The HTTP status answered. */
  status: number;
  /** The SES error name when the call failed (injected faults included). */
  error?: string;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** The tenant or identity the call is about, when it names one. */
  target?: string;
  resourceArn?: string;
}

export interface CallsReport {
  counts: Record<string, number>;
  /** The same counts per region. */
  countsByRegion: Record<string, Record<string, number>>;
  total: number;
  log: CallRecord[];
}

/**
 * Every SES call the simulator answered, for tests and benchmarks to count API usage.
 * Counts cover all calls ever made; the log keeps the newest `limit` entries.
 */
export class CallLog {
  readonly #limit: number;
  #entries: CallRecord[] = [];
  #counts = new Map<string, number>();
  #countsByRegion = new Map<string, Map<string, number>>();
  #seq = 0;

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  /** Numbers calls in the order they finish, so polling with `sinceSeq` never misses a slow one. */
  add(call: Omit<CallRecord, 'seq'>): CallRecord {
    const record = { seq: ++this.#seq, ...call };
    this.#counts.set(record.operation, (this.#counts.get(record.operation) ?? 0) + 1);
    let regional = this.#countsByRegion.get(record.region);
    if (!regional) this.#countsByRegion.set(record.region, (regional = new Map()));
    regional.set(record.operation, (regional.get(record.operation) ?? 0) + 1);
    this.#entries.push(record);
    // Trim in batches: dropping one entry per call would copy the whole array every time.
    if (this.#entries.length >= this.#limit * 2) this.#entries = this.#entries.slice(-this.#limit);
    return record;
  }

  /** `sinceSeq` keeps only entries after that sequence number, for cheap polling; `region` only that region's entries. */
  report(sinceSeq = 0, region?: string): CallsReport {
    const kept = this.#entries.length > this.#limit ? this.#entries.slice(-this.#limit) : this.#entries;
    return {
      counts: Object.fromEntries(this.#counts),
      countsByRegion: Object.fromEntries([...this.#countsByRegion].map(([name, counts]) => [name, Object.fromEntries(counts)])),
      total: [...this.#counts.values()].reduce((sum, count) => sum + count, 0),
      log: kept.filter((entry) => entry.seq > sinceSeq && (region === undefined || entry.region === region)).map((entry) => ({ ...entry })),
    };
  }

  clear(): void {
    this.#entries = [];
    this.#counts.clear();
    this.#countsByRegion.clear();
    this.#seq = 0;
  }
}

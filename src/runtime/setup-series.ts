/**
 * The per-SesSetup gauges, `ses_operator_sessetup_ready{name}` and
 * `ses_operator_sessetup_verified_records{name}`, kept as one number per setup and written straight
 * into the exposition text. prom-client keeps an object per label set and builds several more per
 * series at every scrape: with thousands of setups that is most of the operator's memory for metrics
 * and a burst of garbage at each scrape.
 */
export class SetupSeries {
  /** Per setup: verified records times two, plus one when Ready. */
  readonly #bySetup = new Map<string, number>();

  set(name: string, ready: boolean, verifiedRecords: number): void {
    this.#bySetup.set(name, verifiedRecords * 2 + (ready ? 1 : 0));
  }

  delete(name: string): void {
    this.#bySetup.delete(name);
  }

  /**
   * Both families in the Prometheus text format (version 0.0.4), a few hundred lines per piece: a
   * scrape never holds the whole text, which at thousands of setups is megabytes.
   */
  *render(linesPerPiece = 256): Generator<string> {
    yield* this.#family('ses_operator_sessetup_ready', '1 when the SesSetup is Ready, else 0', (packed) => packed & 1, linesPerPiece);
    yield* this.#family('ses_operator_sessetup_verified_records', 'DNS records of the SesSetup currently verified', (packed) => packed >>> 1, linesPerPiece);
  }

  *#family(name: string, help: string, value: (packed: number) => number, linesPerPiece: number): Generator<string> {
    let piece = `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`;
    let lines = 0;
    for (const [setup, packed] of this.#bySetup) {
      piece += `${name}{name="${escapeLabelValue(setup)}"} ${value(packed)}\n`;
      if (++lines % linesPerPiece === 0) {
        yield piece;
        piece = '';
      }
    }
    if (piece) yield piece;
  }
}

/** The text format's escapes for a label value (Kubernetes names never need them; kept for safety). */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

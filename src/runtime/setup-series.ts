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

  /** Both families in the Prometheus text format (version 0.0.4), each line ending in a newline. */
  render(): string {
    let ready = '# HELP ses_operator_sessetup_ready 1 when the SesSetup is Ready, else 0\n# TYPE ses_operator_sessetup_ready gauge\n';
    let verified =
      '# HELP ses_operator_sessetup_verified_records DNS records of the SesSetup currently verified\n# TYPE ses_operator_sessetup_verified_records gauge\n';
    for (const [name, packed] of this.#bySetup) {
      const label = `{name="${escapeLabelValue(name)}"} `;
      ready += `ses_operator_sessetup_ready${label}${packed & 1}\n`;
      verified += `ses_operator_sessetup_verified_records${label}${packed >>> 1}\n`;
    }
    return `${ready}\n${verified}`;
  }
}

/** The text format's escapes for a label value (Kubernetes names never need them; kept for safety). */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

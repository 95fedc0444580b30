/** One sample of Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text format prom-client serves (no timestamps, no exemplars). */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** A scrape, with sums over the series of one name that match some labels. */
export class Scrape {
  readonly at: number;
  readonly #samples: Sample[];

  constructor(text: string, at = Date.now()) {
    this.at = at;
    this.#samples = parsePrometheus(text);
  }

  sum(name: string, labels: Record<string, string> = {}): number {
    let total = 0;
    for (const sample of this.#samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) total += sample.value;
    }
    return total;
  }

  /** Per value of one label (e.g. SES calls per operation). */
  by(name: string, label: string, labels: Record<string, string> = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const sample of this.#samples) {
      if (sample.name !== name || !Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) continue;
      const key = sample.labels[label] ?? '';
      out[key] = (out[key] ?? 0) + sample.value;
    }
    return out;
  }
}

export async function scrape(metricsUrl: string): Promise<Scrape> {
  const response = await fetch(`${metricsUrl}/metrics`);
  if (!response.ok) throw new Error(`GET ${metricsUrl}/metrics: ${response.status}`);
  return new Scrape(await response.text());
}

/** The operator's gauge of SES's DKIM check period, as it learned it from SES's answers (s). */
export const LEARNED_PERIOD = 'ses_operator_ses_check_period_seconds';

/** Differences of a few counters between two scrapes. */
export function delta(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  return after.sum(name, labels) - before.sum(name, labels);
}

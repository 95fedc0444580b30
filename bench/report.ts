import { cpus, loadavg, release, totalmem } from 'node:os';
import { writeFile } from 'node:fs/promises';

/** One line of the table: a figure, the reference it is measured against, and the budget when there is one. */
export interface Row {
  scenario: string;
  figure: string;
  value: number;
  unit: string;
  reference?: { label: string; value: number };
  /** value / reference (or another ratio the budget is about). */
  ratio?: number;
  /**
   * The budget when there is one. `use`: how much of a bound the figure uses (measured / the limit,
   * 1 = at the limit); a count that must hold exactly ("0", "exactly 3") has none.
   */
  budget?: { text: string; met: boolean; use?: number };
  note?: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  kernel: string;
  node: string;
  /** 1/5/15-minute load averages when the run ended: other work on the machine shows up here. */
  loadAverage: number[];
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}

/** A Markdown table, so the README's Performance section can take it as it is. */
export function table(rows: Row[]): string {
  const header = ['scenario', 'figure', 'measured', 'reference', 'ratio', 'budget', 'met'];
  const lines = rows.map((row) => [
    row.scenario,
    row.figure,
    formatValue(row.value, row.unit),
    row.reference ? `${row.reference.label} ${formatValue(row.reference.value, row.unit)}` : '',
    row.ratio === undefined ? '' : Number.isFinite(row.ratio) ? `${row.ratio.toFixed(2)}x` : 'n/a',
    row.budget?.text ?? '',
    row.budget ? (row.budget.met ? 'met' : '**missed**') : '',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [format(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...lines.map(format)].join('\n');
}

export async function writeJson(path: string, report: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

/**
 * The regression guard: rows that use more than `factor` times their bound, or miss a count that
 * must hold exactly. Noise moves ratios by tens of percent on a shared 2-core machine; a regression
 * that doubles one, or one extra SES call or write, is what this catches.
 */
export function guardFailures(rows: Row[], factor: number): string[] {
  return rows
    .filter((row) => row.budget && (row.budget.use === undefined ? !row.budget.met : !(row.budget.use <= factor)))
    .map((row) => {
      const budget = row.budget!;
      const how = budget.use === undefined ? 'missed' : `${Number.isFinite(budget.use) ? budget.use.toFixed(2) : 'n/a'}x the budget`;
      return `${row.scenario} / ${row.figure}: ${formatValue(row.value, row.unit)} (budget ${budget.text}): ${how}`;
    });
}

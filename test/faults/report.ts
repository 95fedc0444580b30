import { passed, type ScenarioResult } from './workload.ts';

const HEADERS = ['scenario', 'faults injected', 'objects', 'converged', 'leaked', 'duplicated', 'SES calls', 'time'];

function row(result: ScenarioResult): string[] {
  return [
    result.scenario,
    result.faults,
    String(result.objects),
    `${result.converged}/${result.objects}`,
    String(result.leaked),
    String(result.duplicated),
    String(result.sesCalls),
    `${(result.timeMs / 1000).toFixed(1)} s`,
  ];
}

/** The results as a Markdown table (readable as plain text too), then per scenario what the table cannot show. */
export function formatReport(results: ScenarioResult[]): string {
  const rows = [HEADERS, ...results.map(row)];
  const widths = HEADERS.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const out = [line(HEADERS), `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`, ...rows.slice(1).map(line), ''];
  for (const result of results) {
    out.push(`${passed(result) ? 'PASS' : 'FAIL'} ${result.scenario}`);
    for (const note of result.notes) out.push(`  - ${note}`);
    for (const violation of result.violations.slice(0, 20)) out.push(`  ! ${violation}`);
    if (result.violations.length > 20) out.push(`  ! ... and ${result.violations.length - 20} more`);
  }
  return out.join('\n');
}

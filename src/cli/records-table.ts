import type { DnsRecord } from '../api/sessetup.ts';

/** The records as a fixed-width table a person can copy from. */
export function recordsTable(records: DnsRecord[]): string {
  const rows = [
    ['PURPOSE', 'TYPE', 'NAME', 'VALUE', 'VERIFIED', 'DETAIL'],
    ...records.map((r) => [r.purpose, r.type, r.name, r.value, r.verified ? 'yes' : 'no', r.verified ? '' : r.message]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

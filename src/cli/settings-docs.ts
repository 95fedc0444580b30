import { describeSetting, SETTINGS, type Setting } from './settings.ts';

/** The settings' part of `ses-operator run --help`, generated from the rows. */
export function settingsHelp(rows: Record<string, Setting> = SETTINGS): string {
  return Object.entries(rows)
    .map(([name, row]) => {
      const fallback = row.default ? ` (default ${row.default})` : '';
      return `  --${name.padEnd(26)} ${describeSetting(row)}${fallback}\n  ${' '.repeat(28)} env: ${row.env}`;
    })
    .join('\n');
}

/** The README's configuration table, generated from the same rows so the two cannot drift (a test compares them). */
export function settingsTable(rows: Record<string, Setting> = SETTINGS): string {
  const lines = ['| flag | environment | default | meaning |', '| --- | --- | --- | --- |'];
  for (const [name, row] of Object.entries(rows)) {
    const fallback = row.default ? `\`${row.default}\`` : '';
    lines.push(`| \`--${name}\` | \`${row.env}\` | ${fallback} | ${describeSetting(row).replaceAll('|', '\\|')} |`);
  }
  return lines.join('\n');
}

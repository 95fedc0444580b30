import { SETTINGS } from './settings.ts';

/** The README's configuration table, generated from SETTINGS so the two cannot drift (a test compares them). */
export function settingsTable(): string {
  const rows = ['| flag | environment | default | meaning |', '| --- | --- | --- | --- |'];
  for (const [name, s] of Object.entries(SETTINGS)) {
    const fallback = 'default' in s && s.default !== '' ? `\`${s.default}\`` : '';
    rows.push(`| \`--${name}\` | \`${s.env}\` | ${fallback} | ${s.help.replaceAll('|', '\\|')} |`);
  }
  return rows.join('\n');
}

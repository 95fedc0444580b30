// Prints "N passed, N failed" from a JUnit XML report (vitest's junit reporter).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let xml;
try {
  xml = readFileSync(file, 'utf8');
} catch {
  console.log('0 passed, 1 failed');
  console.error(`no test report at ${file}: the test command did not get as far as running tests`);
  process.exit(1);
}
const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const testcase of cases) {
  if (/<(failure|error)\b/.test(testcase)) failed++;
  else if (/<skipped\b/.test(testcase)) skipped++;
  else passed++;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (cases.length === 0) process.exit(1);

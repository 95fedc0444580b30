/** Thrown for anything outside the YAML subset below: the caller then falls back to a full parser. */
export class UnsupportedYaml extends Error {}

type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

interface Line {
  indent: number;
  text: string;
  number: number;
}

/**
 * Parses the block-style YAML subset kubectl and client-go write kubeconfigs in: mappings,
 * sequences (also at their key's indentation), plain and quoted scalars, `{}` and `[]`. Anything
 * else (anchors, tags, block or multi-line scalars, flow collections with content, several
 * documents, YAML 1.1 yes/no booleans) throws UnsupportedYaml rather than guessing.
 */
export function parseSimpleYaml(text: string): Value {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (/^\s*(#.*)?$/.test(raw)) return;
    if (index === 0 && raw === '---') return;
    const indent = raw.length - raw.trimStart().length;
    if (raw.slice(0, indent).includes('\t')) throw new UnsupportedYaml(`line ${index + 1}: tab indentation`);
    lines.push({ indent, text: raw.trim(), number: index + 1 });
  });
  if (lines.length === 0) return null;
  const cursor = { at: 0 };
  const value = parseBlock(lines, cursor, lines[0]!.indent);
  if (cursor.at < lines.length) throw new UnsupportedYaml(`line ${lines[cursor.at]!.number}: unexpected indentation`);
  return value;
}

function parseBlock(lines: Line[], cursor: { at: number }, indent: number): Value {
  const first = lines[cursor.at]!;
  return isSequenceItem(first.text) ? parseSequence(lines, cursor, indent) : parseMapping(lines, cursor, indent);
}

function isSequenceItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

function parseSequence(lines: Line[], cursor: { at: number }, indent: number): Value[] {
  const items: Value[] = [];
  while (cursor.at < lines.length) {
    const line = lines[cursor.at]!;
    if (line.indent < indent || (line.indent === indent && !isSequenceItem(line.text))) break;
    if (line.indent > indent) throw new UnsupportedYaml(`line ${line.number}: unexpected indentation`);
    const rest = line.text.slice(1).trimStart();
    if (rest === '') {
      cursor.at++;
      items.push(nested(lines, cursor, indent, true));
    } else if (mappingEntry(rest)) {
      // "- key: value": a mapping whose further keys sit under the first one.
      const itemIndent = indent + (line.text.length - rest.length);
      lines[cursor.at] = { indent: itemIndent, text: rest, number: line.number };
      items.push(parseMapping(lines, cursor, itemIndent));
    } else {
      cursor.at++;
      items.push(scalar(rest, line.number));
    }
  }
  return items;
}

function parseMapping(lines: Line[], cursor: { at: number }, indent: number): { [key: string]: Value } {
  const mapping: { [key: string]: Value } = {};
  while (cursor.at < lines.length) {
    const line = lines[cursor.at]!;
    if (line.indent < indent) break;
    if (line.indent > indent || isSequenceItem(line.text)) throw new UnsupportedYaml(`line ${line.number}: unexpected indentation`);
    const entry = mappingEntry(line.text);
    if (!entry) throw new UnsupportedYaml(`line ${line.number}: not a "key: value" line`);
    if (Object.hasOwn(mapping, entry.key)) throw new UnsupportedYaml(`line ${line.number}: duplicate key ${entry.key}`);
    cursor.at++;
    mapping[entry.key] = entry.value === '' ? nested(lines, cursor, indent, false) : scalar(entry.value, line.number);
  }
  return mapping;
}

/** The block under "key:" or "-": deeper lines, or (after a key) a sequence at the key's own indentation. */
function nested(lines: Line[], cursor: { at: number }, indent: number, inSequence: boolean): Value {
  const next = lines[cursor.at];
  if (!next || next.indent < indent) return null;
  if (next.indent > indent) return parseBlock(lines, cursor, next.indent);
  if (!inSequence && isSequenceItem(next.text)) return parseSequence(lines, cursor, indent);
  return null;
}

/** "key: value" (value may be empty); keys plain or quoted. */
function mappingEntry(text: string): { key: string; value: string } | undefined {
  let key: string;
  let rest: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = quotedEnd(text);
    if (end < 0) return undefined;
    key = String(scalar(text.slice(0, end + 1), 0));
    rest = text.slice(end + 1);
    if (!rest.startsWith(':')) return undefined;
    rest = rest.slice(1);
  } else {
    const match = /^([^\s:#'"{}[\],&*!|>%@`?-][^:#]*?|-[^\s:#][^:#]*?)\s*:(\s|$)/.exec(text);
    if (!match) return undefined;
    key = match[1]!;
    rest = text.slice(match[0].length - match[2]!.length);
  }
  if (rest !== '' && !/^\s/.test(rest)) return undefined;
  return { key, value: rest.trim() };
}

function quotedEnd(text: string): number {
  const quote = text[0];
  for (let i = 1; i < text.length; i++) {
    if (quote === "'" && text[i] === "'") {
      if (text[i + 1] === "'") i++;
      else return i;
    } else if (quote === '"' && text[i] === '\\') i++;
    else if (quote === '"' && text[i] === '"') return i;
  }
  return -1;
}

function scalar(text: string, lineNumber: number): Value {
  const fail = (why: string) => new UnsupportedYaml(`line ${lineNumber}: ${why}`);
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = quotedEnd(text);
    if (end < 0) throw fail('unterminated quoted scalar');
    const after = text.slice(end + 1).trim();
    if (after !== '' && !after.startsWith('#')) throw fail('text after a quoted scalar');
    const body = text.slice(1, end);
    if (text[0] === "'") return body.replace(/''/g, "'");
    try {
      return JSON.parse(`"${body}"`) as string; // YAML's escapes beyond JSON's fall through to the full parser
    } catch {
      throw fail('escape sequence outside the supported subset');
    }
  }
  const plain = text.replace(/\s+#.*$/, '');
  if (plain === '{}') return {};
  if (plain === '[]') return [];
  if (/^[&*!|>%@`{[]/.test(plain)) throw fail(`unsupported YAML construct "${plain.slice(0, 20)}"`);
  if (plain === '' || plain === '~' || plain === 'null' || plain === 'Null' || plain === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(plain)) return true;
  if (/^(false|False|FALSE)$/.test(plain)) return false;
  if (/^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/.test(plain)) throw fail(`YAML 1.1 boolean "${plain}"`);
  if (/^[-+]?(\d+|\d*\.\d+)([eE][-+]?\d+)?$/.test(plain)) return Number(plain);
  if (/^[-+]?(0x|0o|\.inf|\.nan)/i.test(plain) || plain.includes(': ')) throw fail(`ambiguous plain scalar "${plain.slice(0, 20)}"`);
  return plain;
}

/**
 * TXT text as zone-file character-strings: quoted (so a `;` is text, not the start of a comment),
 * with `"` and `\` escaped, and split into strings of at most 255 bytes that resolvers join again.
 */
export function quotedStrings(text: string): string {
  const chunks: string[] = [];
  let chunk = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > 255) {
      chunks.push(chunk);
      chunk = '';
      bytes = 0;
    }
    chunk += char;
    bytes += size;
  }
  chunks.push(chunk);
  return chunks.map((c) => `"${c.replace(/(["\\])/g, '\\$1')}"`).join(' ');
}

/**
 * Pure parser for Debian control-file syntax (deb822 / RFC 822 style), as used by
 * /var/lib/dpkg/status and the distroless /var/lib/dpkg/status.d/* files.
 * Spec: https://www.debian.org/doc/debian-policy/ch-controlfields.html#syntax-of-control-files
 * and deb822(5): paragraphs separated by blank lines; `Field: value`; continuation lines start
 * with a space or a tab; field names are case-insensitive.
 */

/** One paragraph: field name (lower-cased) → value (first line trimmed, continuation lines joined with `\n`). */
export interface ControlStanza {
  fields: Map<string, string>;
  /** 1-based line number of the paragraph's first line. */
  line: number;
}

const FIELD = /^([^\s:#][^:]*):(.*)$/;

/**
 * Splits control text into paragraphs. Blank or whitespace-only lines separate paragraphs; CRLF
 * and a UTF-8 BOM are tolerated; `#` comment lines, lines without a colon and continuation lines
 * before any field are ignored; a repeated field keeps its first value (dpkg refuses
 * duplicates). Never throws.
 */
export function parseControl(text: string): ControlStanza[] {
  const out: ControlStanza[] = [];
  let current: ControlStanza | undefined;
  let lastField: string | undefined;
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      current = undefined;
      lastField = undefined;
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current && lastField !== undefined) {
        current.fields.set(lastField, `${current.fields.get(lastField)}\n${line.trim()}`);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = FIELD.exec(line);
    if (!current) {
      current = { fields: new Map(), line: i + 1 };
      out.push(current);
    }
    if (!m) {
      lastField = undefined;
      continue;
    }
    const name = m[1]!.trim().toLowerCase();
    if (current.fields.has(name)) {
      lastField = undefined; // continuation lines of a duplicate belong to nothing we keep
      continue;
    }
    current.fields.set(name, m[2]!.trim());
    lastField = name;
  }
  return out;
}

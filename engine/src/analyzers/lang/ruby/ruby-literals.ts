/**
 * Just enough of Ruby's literal syntax to read the right-hand side of a gemspec assignment:
 * string literals ("…", '…', %q{…}, %Q{…}, %{…}) and word arrays (%w[…], %W[…]), with
 * everything else (`.freeze`, `Gem::Version.new(…)`, brackets, commas) skipped.
 * Syntax reference: https://docs.ruby-lang.org/en/master/syntax/literals_rdoc.html
 */

/** Strings found in one Ruby expression. `dynamic` is set when a string used `#{…}` interpolation. */
export interface RubyLiterals {
  strings: string[];
  dynamic: boolean;
  /** true when the text ended inside an unterminated literal or open `[` */
  open: boolean;
}

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '<': '>' };

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  s: ' ',
  e: '\x1b',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  0: '\0',
};

/**
 * Extracts the string literals of `expr` in order. Stops at a `#` comment outside a literal.
 * Never throws.
 */
export function rubyLiterals(expr: string): RubyLiterals {
  const out: RubyLiterals = { strings: [], dynamic: false, open: false };
  let depth = 0;
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '#') break;
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    if (c === '"' || c === "'") {
      const r = readQuoted(expr, i + 1, c, c, c === '"');
      if (!r) return { ...out, open: true };
      out.strings.push(r.value);
      out.dynamic ||= r.dynamic;
      i = r.end;
      continue;
    }
    if (c === '%') {
      const m = /^%([qQwW]?)([^A-Za-z0-9\s])/.exec(expr.slice(i, i + 3));
      if (m) {
        const kind = m[1]!;
        const open = m[2]!;
        const close = CLOSERS[open] ?? open;
        const r = readQuoted(expr, i + m[0].length, open, close, kind === 'Q' || kind === '' || kind === 'W');
        if (!r) return { ...out, open: true };
        if (kind === 'w' || kind === 'W') out.strings.push(...r.value.split(/\s+/).filter(Boolean));
        else out.strings.push(r.value);
        out.dynamic ||= r.dynamic;
        i = r.end;
        continue;
      }
    }
    i++;
  }
  out.open = depth > 0;
  return out;
}

/** Reads a literal body starting at `start` (just after the opening delimiter). */
function readQuoted(
  s: string,
  start: number,
  open: string,
  close: string,
  interpolating: boolean,
): { value: string; end: number; dynamic: boolean } | undefined {
  let value = '';
  let nesting = 0;
  let dynamic = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      const n = s[i + 1]!;
      i++;
      if (!interpolating) {
        // single-quoted: only \\ and the delimiters are escapes
        value += n === '\\' || n === close || n === open ? n : '\\' + n;
        continue;
      }
      if (n === 'u') {
        const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(s.slice(i + 1, i + 9));
        const plain = /^[0-9A-Fa-f]{4}/.exec(s.slice(i + 1, i + 5));
        const hex = braced ? braced[1]! : plain?.[0];
        const cp = hex === undefined ? NaN : parseInt(hex, 16);
        if (cp <= 0x10ffff) {
          value += String.fromCodePoint(cp);
          i += braced ? braced[0].length : 4;
          continue;
        }
      }
      value += SIMPLE_ESCAPES[n] ?? n;
      continue;
    }
    if (interpolating && c === '#' && s[i + 1] === '{') dynamic = true;
    if (open !== close && c === open) nesting++;
    if (c === close) {
      if (nesting === 0) return { value, end: i + 1, dynamic };
      nesting--;
    }
    value += c;
  }
  return undefined;
}

/**
 * WWW-Authenticate parsing (RFC 9110 §11.6.1, https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1):
 * `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"`
 * or `Basic realm="Registry"`. Several challenges may share one header or come in several.
 * Registry use: https://distribution.github.io/distribution/spec/auth/token/
 */

export interface Challenge {
  /** Lower-case auth scheme, e.g. `bearer` or `basic`. */
  scheme: string;
  /** Parameters with lower-case names; a token68 credential is stored under `""`. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  skip(chars: RegExp): void {
    while (!this.done && chars.test(this.peek())) this.pos++;
  }

  token(): string {
    const start = this.pos;
    this.skip(TOKEN_CHAR);
    return this.text.slice(start, this.pos);
  }

  quoted(): string {
    this.pos++; // opening quote
    let out = '';
    while (!this.done) {
      const c = this.text[this.pos++]!;
      if (c === '"') return out;
      if (c === '\\' && !this.done) out += this.text[this.pos++]!;
      else out += c;
    }
    return out; // unterminated: take what is there
  }
}

const SPACE = /[ \t]/;

/** Reads `name = value` at the scanner; restores the position and returns undefined if it is not a parameter. */
function readParam(s: Scanner): [string, string] | undefined {
  const start = s.pos;
  const name = s.token();
  s.skip(SPACE);
  if (name === '' || s.peek() !== '=') {
    s.pos = start;
    return undefined;
  }
  s.pos++;
  s.skip(SPACE);
  if (s.peek() === '"') return [name.toLowerCase(), s.quoted()];
  // unquoted values should be tokens, but servers send bare URLs too: read up to a comma or space
  const from = s.pos;
  s.skip(/[^,\s"]/);
  return [name.toLowerCase(), s.text.slice(from, s.pos)];
}

/**
 * Parses every challenge in the header value(s). Never throws: unparseable parts are skipped.
 * @returns challenges in header order; empty when the header is missing.
 */
export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  const out: Challenge[] = [];
  for (const value of values) {
    const s = new Scanner(String(value));
    while (!s.done) {
      s.skip(/[ \t,]/);
      const scheme = s.token();
      if (scheme === '') {
        if (!s.done) s.pos++; // stray character
        continue;
      }
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(challenge);
      s.skip(SPACE);
      const param = readParam(s);
      if (!param) {
        const start = s.pos;
        s.skip(TOKEN68_CHAR);
        s.skip(/=/);
        if (s.pos > start) challenge.params[''] = s.text.slice(start, s.pos);
        continue;
      }
      challenge.params[param[0]] = param[1];
      for (;;) {
        s.skip(SPACE);
        if (s.peek() !== ',') break;
        const comma = s.pos;
        s.skip(/[ \t,]/);
        const next = readParam(s);
        if (!next) {
          s.pos = comma; // a new challenge starts after the comma
          break;
        }
        challenge.params[next[0]] = next[1];
      }
    }
  }
  return out;
}

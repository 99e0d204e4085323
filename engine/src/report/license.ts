/**
 * SPDX license expressions, SPDX 2.3 Annex D:
 * https://spdx.github.io/spdx-spec/v2.3/SPDX-license-expressions/
 *
 * Identifiers are checked against the SPDX license list that @cyclonedx/cyclonedx-library ships
 * (licenses and exceptions in one list, so an exception in a license position is not caught).
 * Identifiers match case-insensitively and come out in the list's case; operators are
 * upper-cased (the spec asks for upper case; lower-case `or` in package metadata is common).
 */
import { createRequire } from 'node:module';

// The SPDX license list of @cyclonedx/cyclonedx-library is loaded on first use: reports that
// never name a license (table, JSON) do not pay for it at start-up.
let spdx: { fixupSpdxId(id: string): string | undefined } | undefined;
function fixupSpdxId(id: string): string | undefined {
  spdx ??= createRequire(import.meta.url)('@cyclonedx/cyclonedx-library/SPDX') as typeof spdx & object;
  return spdx.fixupSpdxId(id);
}

const ID_STRING = /^[A-Za-z0-9.-]+$/;
const LICENSE_REF = /^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;

class Parser {
  private i = 0;
  constructor(private readonly tokens: string[]) {}

  parse(): string | undefined {
    const out = this.or();
    return out !== undefined && this.i === this.tokens.length ? out : undefined;
  }

  private peekOp(): string | undefined {
    return this.tokens[this.i]?.toUpperCase();
  }

  private or(): string | undefined {
    let left = this.and();
    while (left !== undefined && this.peekOp() === 'OR') {
      this.i++;
      const right = this.and();
      left = right === undefined ? undefined : `${left} OR ${right}`;
    }
    return left;
  }

  private and(): string | undefined {
    let left = this.term();
    while (left !== undefined && this.peekOp() === 'AND') {
      this.i++;
      const right = this.term();
      left = right === undefined ? undefined : `${left} AND ${right}`;
    }
    return left;
  }

  private term(): string | undefined {
    const tok = this.tokens[this.i++];
    if (tok === undefined) return undefined;
    if (tok === '(') {
      const inner = this.or();
      if (inner === undefined || this.tokens[this.i++] !== ')') return undefined;
      return `(${inner})`;
    }
    const simple = simpleExpression(tok);
    if (simple === undefined) return undefined;
    if (this.peekOp() !== 'WITH') return simple;
    this.i++;
    const exception = fixupSpdxId(this.tokens[this.i++] ?? '');
    return exception ? `${simple} WITH ${exception}` : undefined;
  }
}

function simpleExpression(tok: string): string | undefined {
  if (LICENSE_REF.test(tok)) return tok;
  if (!ID_STRING.test(tok.replace(/\+$/, ''))) return undefined;
  const id = fixupSpdxId(tok);
  if (id) return id;
  if (tok.endsWith('+')) {
    const base = fixupSpdxId(tok.slice(0, -1));
    if (base) return `${base}+`;
  }
  return undefined;
}

/**
 * The canonical form of an SPDX license expression (`mit or apache-2.0` → `MIT OR Apache-2.0`),
 * or undefined when `text` is not a valid expression of known identifiers / LicenseRefs.
 */
export function normalizeSpdxExpression(text: string): string | undefined {
  const tokens = text
    .replace(/[()]/g, ' $& ')
    .split(/\s+/)
    .filter((t) => t.length > 0);
  if (tokens.length === 0 || tokens.length > 512) return undefined;
  return new Parser(tokens).parse();
}

/** True when the normalised expression is a single identifier (no operator). */
export function isSimpleExpression(expression: string): boolean {
  return !/[\s()]/.test(expression);
}

/**
 * One expression for a package's declared licenses: each entry normalised, compound entries
 * parenthesised, joined with AND (the package carries all of them). Undefined when there are
 * none or any entry is not a valid expression: a partial answer would claim too little.
 */
export function spdxLicenseExpression(licenses: readonly string[] | undefined): string | undefined {
  if (!licenses?.length) return undefined;
  const exprs: string[] = [];
  for (const entry of licenses) {
    const expr = normalizeSpdxExpression(entry);
    if (expr === undefined) return undefined;
    if (!exprs.includes(expr)) exprs.push(expr);
  }
  if (exprs.length === 1) return exprs[0];
  return exprs.map((e) => (isSimpleExpression(e) || isWrapped(e) ? e : `(${e})`)).join(' AND ');
}

/** True when the whole expression is one parenthesised group: `(A OR B)`, not `(A) OR (B)`. */
function isWrapped(expr: string): boolean {
  if (!expr.startsWith('(')) return false;
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    if (expr[i] === '(') depth++;
    else if (expr[i] === ')' && --depth === 0) return i === expr.length - 1;
  }
  return false;
}

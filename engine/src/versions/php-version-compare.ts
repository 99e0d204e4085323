/**
 * PHP's version_compare (ext/standard/versioning.c, https://www.php.net/manual/function.version-compare.php),
 * used by Composer on normalised versions.
 *
 * Canonical form: `-`, `_`, `+` and other non-alphanumerics become `.`, and a `.` is inserted at
 * every digit/non-digit transition (`1.0rc1` → `1.0.rc.1`). Parts compare pairwise: two numbers
 * as integers; otherwise by the special forms, matched by prefix:
 * any other string < dev < alpha = a < beta = b < RC = rc < number < pl = p (so `patch` is p).
 * When one side runs out, a number left on the other side makes it greater, a string left is
 * compared against a number (so `1.0-beta < 1.0 < 1.0-patch`).
 */
import { cmpDigits, type Ordering } from './types.js';

const SPECIAL_FORMS: readonly [string, number][] = [
  ['dev', 0],
  ['alpha', 1],
  ['a', 1],
  ['beta', 2],
  ['b', 2],
  ['RC', 3],
  ['rc', 3],
  ['#', 4],
  ['pl', 5],
  ['p', 5],
];

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlnum = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);

/** php_canonicalize_version. */
export function canonicalizePhpVersion(version: string): string {
  if (version.length === 0) return '';
  let out = version[0]!;
  let lp = version[0]!;
  for (let i = 1; i < version.length; i++) {
    const p = version[i]!;
    const last = out[out.length - 1];
    const lpDigit = isDigit(lp);
    const pDigit = isDigit(p);
    if (p === '-' || p === '_' || p === '+') {
      if (last !== '.') out += '.';
    } else if ((lp !== '.' && !lpDigit && pDigit) || (lpDigit && p !== '.' && !pDigit)) {
      if (last !== '.') out += '.';
      out += p;
    } else if (!isAlnum(p)) {
      if (last !== '.') out += '.';
    } else {
      out += p;
    }
    lp = p;
  }
  return out;
}

function specialForm(form: string): number {
  for (const [name, order] of SPECIAL_FORMS) if (form.startsWith(name)) return order;
  return -1;
}

function compareSpecial(a: string, b: string): Ordering {
  const x = specialForm(a);
  const y = specialForm(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function comparePart(p1: string, p2: string): Ordering {
  if (isDigit(p1[0]) && isDigit(p2[0])) return cmpDigits(p1.match(/^[0-9]+/)![0], p2.match(/^[0-9]+/)![0]);
  if (!isDigit(p1[0]) && !isDigit(p2[0])) return compareSpecial(p1, p2);
  return isDigit(p1[0]) ? compareSpecial('#N#', p2) : compareSpecial(p1, '#N#');
}

/** php_version_compare's walk over two canonical strings (parts may be empty, as in C). */
function compareCanonical(s1: string, s2: string): Ordering {
  let p1 = 0;
  let p2 = 0;
  // C's n1/n2: where the current part ends at a '.', or null when it is the last part
  let n1: number | null = 0;
  let n2: number | null = 0;
  let compare: Ordering = 0;
  while (p1 < s1.length && p2 < s2.length && n1 !== null && n2 !== null) {
    const e1 = s1.indexOf('.', p1);
    const e2 = s2.indexOf('.', p2);
    n1 = e1 < 0 ? null : e1;
    n2 = e2 < 0 ? null : e2;
    compare = comparePart(s1.slice(p1, n1 ?? s1.length), s2.slice(p2, n2 ?? s2.length));
    if (compare !== 0) break;
    if (n1 !== null) p1 = n1 + 1;
    if (n2 !== null) p2 = n2 + 1;
  }
  if (compare === 0) {
    if (n1 !== null) compare = isDigit(s1[p1]) ? 1 : phpVersionCompare(s1.slice(p1), '#N#');
    else if (n2 !== null) compare = isDigit(s2[p2]) ? -1 : phpVersionCompare('#N#', s2.slice(p2));
  }
  return compare;
}

/** version_compare(a, b) as -1, 0 or 1. */
export function phpVersionCompare(v1: string, v2: string): Ordering {
  return phpCompareCanonical(canonicalPhpForm(v1), canonicalPhpForm(v2));
}

/** The form version_compare compares `v` in: canonical, except a version starting with `#` (kept as it is). */
export function canonicalPhpForm(v: string): string {
  return v[0] === '#' ? v : canonicalizePhpVersion(v);
}

/**
 * version_compare on forms from canonicalPhpForm (a parsed version keeps its own, so a comparison
 * canonicalises nothing); canonicalising keeps a version empty exactly when it was.
 */
export function phpCompareCanonical(c1: string, c2: string): Ordering {
  if (c1 === '' || c2 === '') {
    if (c1 === c2) return 0;
    return c1 === '' ? -1 : 1;
  }
  return compareCanonical(c1, c2);
}

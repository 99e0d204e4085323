/**
 * Python package versions: PEP 440 (https://peps.python.org/pep-0440/, now the "Version
 * specifiers" specification at https://packaging.python.org/en/latest/specifications/version-specifiers/).
 *
 * The grammar is @renovatebot/pep440's VERSION_PATTERN, the JavaScript port of the pattern in
 * pypa/packaging: `[v][N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]` with every spelling PEP 440
 * normalises (alpha, c, pre, preview, rev, r, `-N` post releases, `_`/`-`/`.` separators, upper
 * case, surrounding blanks). The ordering is packaging's `_cmpkey`, computed here on the digit
 * strings themselves so numbers of any length compare exactly: epoch; release without trailing
 * zeros; pre-release (a < b < rc; a bare `.devN` sorts before every pre-release of its release);
 * post-release; dev-release (before the same version without it); local version (absent < present;
 * numeric parts above alphanumeric ones and compared as integers, alphanumeric parts compared in
 * lower case; a longer list wins a tie).
 *
 * The library's own compare() is not used: it reads numbers with Number(), so it loses precision
 * above 2^53 and takes local parts like `1e5` or `0x10` for numbers (packaging does not).
 */
import { VERSION_PATTERN } from '@renovatebot/pep440/lib/version.js';
import { checkRaw, cmpDigits, cmpStr, invalid, type Ordering, type VersionScheme } from './types.js';

export interface Pep440Version {
  epoch: string;
  /** release numbers without trailing zeros */
  release: readonly string[];
  /** ['a' | 'b' | 'rc', n] */
  pre?: readonly [string, string];
  post?: string;
  dev?: string;
  local?: readonly string[];
}

const VERSION_RE = new RegExp(`^\\s*${VERSION_PATTERN}\\s*$`, 'i');

const PRE_SPELLING: Readonly<Record<string, string>> = {
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  rc: 'rc',
  pre: 'rc',
  preview: 'rc',
};

/** Parses a PEP 440 version; throws ENG_VERSION_INVALID. */
export function parsePep440(raw: string): Pep440Version {
  checkRaw('pep440', raw);
  const g = VERSION_RE.exec(raw)?.groups;
  if (!g) invalid('pep440', raw, 'not a PEP 440 version');
  const release = g.release!.split('.');
  while (release.length > 0 && /^0+$/.test(release[release.length - 1]!)) release.pop();
  const v: Pep440Version = { epoch: g.epoch ?? '0', release };
  if (g.pre_l !== undefined) v.pre = [PRE_SPELLING[g.pre_l.toLowerCase()]!, g.pre_n ?? '0'];
  if (g.post_n1 !== undefined) v.post = g.post_n1;
  else if (g.post_l !== undefined) v.post = g.post_n2 ?? '0';
  if (g.dev_l !== undefined) v.dev = g.dev_n ?? '0';
  if (g.local !== undefined) v.local = g.local.toLowerCase().split(/[-_.]/);
  return v;
}

/** Compares release lists; the shorter one is padded by absence (its trailing zeros are gone). */
function cmpRelease(a: readonly string[], b: readonly string[]): Ordering {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = cmpDigits(a[i]!, b[i]!);
    if (r !== 0) return r;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Pre-release rank: -1 for a bare dev release (sorts first), 1 for none, 0 when compared by value. */
function preRank(v: Pep440Version): number {
  if (v.pre) return 0;
  return v.post === undefined && v.dev !== undefined ? -1 : 1;
}

function cmpOptionalNumber(a: string | undefined, b: string | undefined, absentHigh: boolean): Ordering {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    const aLow = a === undefined ? !absentHigh : absentHigh;
    return aLow ? -1 : 1;
  }
  return cmpDigits(a, b);
}

const DIGITS = /^[0-9]+$/;

function cmpLocal(a: readonly string[] | undefined, b: readonly string[] | undefined): Ordering {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    return a === undefined ? -1 : 1;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = DIGITS.test(x);
    const yn = DIGITS.test(y);
    const r = xn && yn ? cmpDigits(x, y) : xn ? 1 : yn ? -1 : cmpStr(x, y);
    if (r !== 0) return r;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Orders two PEP 440 versions like packaging's Version. */
export function comparePep440(a: Pep440Version, b: Pep440Version): Ordering {
  let r = cmpDigits(a.epoch, b.epoch) || cmpRelease(a.release, b.release);
  if (r !== 0) return r;
  const ra = preRank(a);
  const rb = preRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra === 0) {
    r = cmpStr(a.pre![0], b.pre![0]) || cmpDigits(a.pre![1], b.pre![1]);
    if (r !== 0) return r;
  }
  return (
    cmpOptionalNumber(a.post, b.post, false) ||
    cmpOptionalNumber(a.dev, b.dev, true) ||
    cmpLocal(a.local, b.local)
  );
}

export const pep440: VersionScheme<Pep440Version> = {
  id: 'pep440',
  parse: parsePep440,
  compare: comparePep440,
};

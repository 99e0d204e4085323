/**
 * Alpine (apk) package versions: `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}`.
 *
 * Spec: apk-tools src/version.c (current upstream, https://gitlab.alpinelinux.org/alpine/apk-tools)
 * and its test/unit/version.data. A version is a sequence of tokens:
 *   - numbers: the first compares as an integer; a later `.N` compares as an integer unless
 *     either side has a leading zero, then as a string (Gentoo rule: `1.02 < 1.1`, `8.2.0 < 8.2.001`);
 *   - one lower-case letter after a number (`1.2a`);
 *   - suffixes `_alpha _beta _pre _rc` (before the plain release) and `_cvs _svn _git _hg _p`
 *     (after it), each with an optional number;
 *   - `~hexhash` (a commit, compared as a string);
 *   - `-rN` the package revision.
 * Tokens compare pairwise; where the kinds differ, a pre-release suffix is older, otherwise the
 * version whose next token comes earlier in the list above is newer (`1.0.1 > 1.0a > 1.0_p1 > 1.0`).
 * Anything apk's validator rejects is rejected here.
 */
import {
  checkRaw,
  cmpDigits,
  cmpStr,
  invalid,
  isDigitCode,
  type Ordering,
  type VersionScheme,
} from './types.js';

/** Token kinds in apk-tools' order; the order decides comparisons between different kinds. */
const enum Tok {
  InitialDigit = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  CommitHash = 5,
  RevisionNo = 6,
  End = 7,
}

/** Suffix ranks; NONE (5) is the pivot between pre- and post-release suffixes. */
const SUFFIXES: Readonly<Record<string, number>> = {
  alpha: 1,
  beta: 2,
  pre: 3,
  rc: 4,
  cvs: 6,
  svn: 7,
  git: 8,
  hg: 9,
  p: 10,
};
const SUFFIX_NONE = 5;

export interface ApkToken {
  kind: Tok;
  /** digits, the letter, the suffix name or the hash */
  text: string;
  /** suffix rank, for Suffix tokens */
  rank?: number;
}

export type ApkVersion = readonly ApkToken[];

function digitsAt(s: string, i: number): number {
  let j = i;
  while (j < s.length && isDigitCode(s.charCodeAt(j))) j++;
  return j;
}

/** Tokenises an apk version; throws ENG_VERSION_INVALID where apk's validator would fail. */
export function parseApk(raw: string): ApkVersion {
  checkRaw('apk', raw);
  const tokens: ApkToken[] = [];
  let i = digitsAt(raw, 0);
  if (i === 0) invalid('apk', raw, 'does not start with a digit');
  tokens.push({ kind: Tok.InitialDigit, text: raw.slice(0, i) });
  let prev: Tok = Tok.InitialDigit;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c >= 'a' && c <= 'z') {
      if (prev > Tok.Digit) invalid('apk', raw, `letter ${JSON.stringify(c)} not right after a number`);
      tokens.push({ kind: Tok.Letter, text: c });
      prev = Tok.Letter;
      i++;
    } else if (c === '.' || isDigitCode(raw.charCodeAt(i))) {
      if (c === '.') {
        if (prev > Tok.Digit) invalid('apk', raw, 'a dot after a letter, suffix, hash or revision');
        i++;
      }
      let kind: Tok;
      if (prev === Tok.InitialDigit || prev === Tok.Digit) kind = Tok.Digit;
      else if (prev === Tok.Suffix) kind = Tok.SuffixNo;
      else invalid('apk', raw, 'a number in the wrong place');
      const end = digitsAt(raw, i);
      if (end === i) invalid('apk', raw, 'a dot without a number');
      tokens.push({ kind, text: raw.slice(i, end) });
      prev = kind;
      i = end;
    } else if (c === '_') {
      if (prev > Tok.SuffixNo) invalid('apk', raw, 'a suffix after a hash or revision');
      let end = i + 1;
      while (end < raw.length && raw[end]! >= 'a' && raw[end]! <= 'z') end++;
      const name = raw.slice(i + 1, end);
      const rank = Object.hasOwn(SUFFIXES, name) ? SUFFIXES[name] : undefined;
      if (rank === undefined) invalid('apk', raw, `unknown suffix ${JSON.stringify(name)}`);
      tokens.push({ kind: Tok.Suffix, text: name, rank });
      prev = Tok.Suffix;
      i = end;
    } else if (c === '~') {
      if (prev >= Tok.CommitHash) invalid('apk', raw, 'a second hash or a hash after the revision');
      let end = i + 1;
      while (end < raw.length && /[0-9a-fA-F]/.test(raw[end]!)) end++;
      if (end === i + 1) invalid('apk', raw, 'empty commit hash');
      tokens.push({ kind: Tok.CommitHash, text: raw.slice(i + 1, end) });
      prev = Tok.CommitHash;
      i = end;
    } else if (c === '-') {
      if (prev >= Tok.RevisionNo) invalid('apk', raw, 'a second revision');
      if (raw[i + 1] !== 'r') invalid('apk', raw, 'a hyphen not followed by r');
      const end = digitsAt(raw, i + 2);
      if (end === i + 2) invalid('apk', raw, 'revision without a number');
      tokens.push({ kind: Tok.RevisionNo, text: raw.slice(i + 2, end) });
      prev = Tok.RevisionNo;
      i = end;
    } else {
      invalid('apk', raw, `unexpected character ${JSON.stringify(c)}`);
    }
  }
  return tokens;
}

function tokenCmp(a: ApkToken, b: ApkToken): Ordering {
  switch (a.kind) {
    case Tok.Digit:
      // a leading zero on either side switches to a string comparison (Gentoo rule)
      if (a.text[0] === '0' || b.text[0] === '0') return cmpStr(a.text, b.text);
      return cmpDigits(a.text, b.text);
    case Tok.InitialDigit:
    case Tok.SuffixNo:
    case Tok.RevisionNo:
      return cmpDigits(a.text, b.text);
    case Tok.Suffix:
      return a.rank! < b.rank! ? -1 : a.rank! > b.rank! ? 1 : 0;
    default:
      // Letter and CommitHash
      return cmpStr(a.text, b.text);
  }
}

/** Orders two tokenised apk versions like apk_version_compare. */
export function compareApk(a: ApkVersion, b: ApkVersion): Ordering {
  const n = Math.min(a.length, b.length);
  let k = 0;
  for (; k < n; k++) {
    const ta = a[k]!;
    const tb = b[k]!;
    if (ta.kind !== tb.kind) break;
    const r = tokenCmp(ta, tb);
    if (r !== 0) return r;
  }
  const ta = a[k];
  const tb = b[k];
  const ka = ta ? ta.kind : Tok.End;
  const kb = tb ? tb.kind : Tok.End;
  if (ka === kb) return 0;
  // the longer version is newer unless what it has next is a pre-release suffix
  if (ta?.kind === Tok.Suffix && ta.rank! < SUFFIX_NONE) return -1;
  if (tb?.kind === Tok.Suffix && tb.rank! < SUFFIX_NONE) return 1;
  return ka > kb ? -1 : 1;
}

export const apk: VersionScheme<ApkVersion> = { id: 'apk', parse: parseApk, compare: compareApk };

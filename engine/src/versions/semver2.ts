/**
 * Semantic Versioning 2.0.0 core shared by the Go and Cargo schemes.
 *
 * Spec: https://semver.org/spec/v2.0.0.html — `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, numeric
 * parts without leading zeros, precedence by (§11): numbers, then a release above any of its
 * pre-releases, then pre-release identifiers left to right (numeric identifiers compare as
 * integers and below alphanumeric ones, alphanumeric ones by ASCII order, a longer list wins a
 * tie). Build metadata never takes part in precedence. Numbers are kept as digit strings, so
 * there is no size limit.
 */
import { cmpDigits, cmpStr, type Ordering } from './types.js';

export interface SemVer2 {
  major: string;
  minor: string;
  patch: string;
  prerelease: readonly string[];
  build: readonly string[];
}

const NUM = '(0|[1-9][0-9]*)';
const PRE_ID = '(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)';
const BUILD_ID = '[0-9A-Za-z-]+';
const SEMVER_RE = new RegExp(
  `^${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`,
);

/** Parses a strict SemVer 2.0.0 string; returns undefined when it is not one (callers throw). */
export function parseSemVer2(s: string): SemVer2 | undefined {
  const m = SEMVER_RE.exec(s);
  if (!m) return undefined;
  return {
    major: m[1]!,
    minor: m[2]!,
    patch: m[3]!,
    prerelease: m[4] === undefined ? [] : m[4].split('.'),
    build: m[5] === undefined ? [] : m[5].split('.'),
  };
}

const DIGITS = /^[0-9]+$/;

/** Compares two pre-release identifier lists by semver.org §11.4 (an empty list is a release). */
export function comparePrerelease(a: readonly string[], b: readonly string[]): Ordering {
  if (a.length === 0 || b.length === 0) {
    if (a.length === b.length) return 0;
    return a.length === 0 ? 1 : -1;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = DIGITS.test(x);
    const yn = DIGITS.test(y);
    let r: Ordering;
    if (xn && yn) r = cmpDigits(x, y);
    else if (xn) r = -1;
    else if (yn) r = 1;
    else r = cmpStr(x, y);
    if (r !== 0) return r;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Precedence of two SemVer 2.0.0 versions (build metadata ignored). */
export function compareSemVer2(a: SemVer2, b: SemVer2): Ordering {
  return (
    cmpDigits(a.major, b.major) ||
    cmpDigits(a.minor, b.minor) ||
    cmpDigits(a.patch, b.patch) ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

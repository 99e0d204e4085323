/**
 * RPM versions: `[epoch:]version[-release]`, compared the way rpm 4.18 does.
 *
 * Spec: rpm's `rpmvercmp` (rpmio/rpmvercmp.c) and EVR parsing (`rpmverParse`, rpmio/rpmver.c),
 * documented at https://rpm-software-management.github.io/rpm/manual/dependencies.html#versioning
 * and in the Fedora packaging guidelines on versioning. Segments are maximal runs of ASCII
 * digits or ASCII letters; everything else separates them. Digit runs compare as integers,
 * letter runs by byte, a digit run beats a letter run. `~` sorts before everything, even the end
 * of the string (pre-releases: `1.0~rc1 < 1.0`); `^` sorts after the end but before anything
 * else (snapshots after a release: `1.0 < 1.0^git1 < 1.0.1`).
 *
 * The epoch is the leading digits before a `:`; a missing epoch compares as 0. The release is
 * what follows the last `-`; a missing release compares as empty, so `1.0 < 1.0-1` (rpm's
 * `rpm.vercmp` agrees). rpm itself accepts any non-empty string; blanks and control characters
 * are rejected here because no real EVR carries them.
 */
import { checkRaw, invalid, isAlphaCode, isDigitCode, type Ordering, type VersionScheme } from './types.js';

export interface RpmVersion {
  /** epoch digits, '0' when absent */
  epoch: string;
  version: string;
  /** '' when absent */
  release: string;
}

function hasBlankOrControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 127) return true;
  }
  return /\s/.test(s);
}

/** Parses an EVR string; throws ENG_VERSION_INVALID. */
export function parseRpm(raw: string): RpmVersion {
  checkRaw('rpm', raw);
  if (hasBlankOrControl(raw)) invalid('rpm', raw, 'contains blanks or control characters');
  let s = 0;
  while (s < raw.length && isDigitCode(raw.charCodeAt(s))) s++;
  // rpm looks for the release separator only after the epoch digits
  const dash = raw.lastIndexOf('-');
  const se = dash >= s ? dash : -1;
  let epoch = '0';
  let versionStart = 0;
  if (raw[s] === ':') {
    epoch = s === 0 ? '0' : raw.slice(0, s);
    versionStart = s + 1;
  }
  const version = se >= 0 ? raw.slice(versionStart, se) : raw.slice(versionStart);
  const release = se >= 0 ? raw.slice(se + 1) : '';
  return { epoch, version, release };
}

function isAlnum(c: number): boolean {
  return isDigitCode(c) || isAlphaCode(c);
}

/** rpm's rpmvercmp: compares two version (or release) strings. */
export function rpmvercmp(a: string, b: string): Ordering {
  if (a === b) return 0;
  let one = 0;
  let two = 0;
  while (one < a.length || two < b.length) {
    while (one < a.length && !isAlnum(a.charCodeAt(one)) && a[one] !== '~' && a[one] !== '^') one++;
    while (two < b.length && !isAlnum(b.charCodeAt(two)) && b[two] !== '~' && b[two] !== '^') two++;

    if (a[one] === '~' || b[two] === '~') {
      if (a[one] !== '~') return 1;
      if (b[two] !== '~') return -1;
      one++;
      two++;
      continue;
    }
    if (a[one] === '^' || b[two] === '^') {
      if (one >= a.length) return -1;
      if (two >= b.length) return 1;
      if (a[one] !== '^') return 1;
      if (b[two] !== '^') return -1;
      one++;
      two++;
      continue;
    }
    if (!(one < a.length && two < b.length)) break;

    let str1 = one;
    let str2 = two;
    const isnum = isDigitCode(a.charCodeAt(str1));
    const inSeg = isnum ? isDigitCode : isAlphaCode;
    while (str1 < a.length && inSeg(a.charCodeAt(str1))) str1++;
    while (str2 < b.length && inSeg(b.charCodeAt(str2))) str2++;
    // a numeric segment is newer than an alpha one
    if (two === str2) return isnum ? 1 : -1;

    let segA = a.slice(one, str1);
    let segB = b.slice(two, str2);
    if (isnum) {
      segA = segA.replace(/^0+/, '');
      segB = segB.replace(/^0+/, '');
      if (segA.length !== segB.length) return segA.length > segB.length ? 1 : -1;
    }
    if (segA !== segB) return segA < segB ? -1 : 1;
    one = str1;
    two = str2;
  }
  if (one >= a.length && two >= b.length) return 0;
  return one >= a.length ? -1 : 1;
}

/** Orders two parsed EVRs: epoch, version, release. */
export function compareRpm(a: RpmVersion, b: RpmVersion): Ordering {
  return rpmvercmp(a.epoch, b.epoch) || rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);
}

export const rpm: VersionScheme<RpmVersion> = { id: 'rpm', parse: parseRpm, compare: compareRpm };

/**
 * Debian package versions: `[epoch:]upstream_version[-debian_revision]`.
 *
 * Spec: Debian Policy §5.6.12 (https://www.debian.org/doc/debian-policy/ch-controlfields.html#version),
 * compared the way dpkg's `verrevcmp` does (lib/dpkg/version.c): alternate non-digit and digit
 * runs; in non-digit runs `~` sorts before everything (even the end of the string), letters
 * before non-letters; digit runs compare as unbounded integers.
 *
 * Validity follows dpkg's `parseversion` with its warnings treated as errors: a version dpkg
 * would only warn about (upstream not starting with a digit, characters outside the policy set)
 * does not occur in the archive and is rejected here, so it is recorded rather than guessed at.
 */
import {
  checkRaw,
  invalid,
  isAlphaCode,
  isDigitCode,
  sign,
  type Ordering,
  type VersionScheme,
} from './types.js';

export interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const INT_MAX = 2147483647;
const UPSTREAM_RE = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION_RE = /^[A-Za-z0-9.+~]+$/;
const EPOCH_RE = /^[+-]?[0-9]+$/;

/** Parses a Debian version; throws ENG_VERSION_INVALID. */
export function parseDeb(raw: string): DebVersion {
  checkRaw('deb', raw);
  // dpkg trims blanks (space, tab) only; anything else blank-like is an embedded character
  const s = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  if (/[ \t]/.test(s)) invalid('deb', raw, 'embedded spaces');
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (e === '') invalid('deb', raw, 'epoch is empty');
    // dpkg reads the epoch with strtol, which takes a sign
    if (!EPOCH_RE.test(e)) invalid('deb', raw, 'epoch is not a number');
    const n = Number(e);
    if (n < 0) invalid('deb', raw, 'epoch is negative');
    if (n > INT_MAX) invalid('deb', raw, 'epoch is too big');
    epoch = n === 0 ? 0 : n;
    rest = s.slice(colon + 1);
    if (rest === '') invalid('deb', raw, 'nothing after the epoch colon');
  }
  let upstream = rest;
  let revision = '';
  const hyphen = rest.lastIndexOf('-');
  if (hyphen >= 0) {
    upstream = rest.slice(0, hyphen);
    revision = rest.slice(hyphen + 1);
    if (revision === '') invalid('deb', raw, 'revision is empty');
  }
  if (upstream === '') invalid('deb', raw, 'upstream version is empty');
  if (!UPSTREAM_RE.test(upstream)) {
    invalid(
      'deb',
      raw,
      isDigitCode(upstream.charCodeAt(0))
        ? 'invalid character in upstream version'
        : 'upstream version does not start with a digit',
    );
  }
  if (revision !== '' && !REVISION_RE.test(revision)) invalid('deb', raw, 'invalid character in revision');
  return { epoch, upstream, revision };
}

/** dpkg's character weight in non-digit runs: `~` < end < letters < everything else. */
function order(c: number): number {
  if (Number.isNaN(c)) return 0; // end of string
  if (isDigitCode(c)) return 0;
  if (isAlphaCode(c)) return c;
  if (c === 126) return -1; // ~
  return c + 256;
}

/** dpkg's verrevcmp over one part (upstream or revision). */
export function verrevcmp(a: string, b: string): Ordering {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (
      (i < a.length && !isDigitCode(a.charCodeAt(i))) ||
      (j < b.length && !isDigitCode(b.charCodeAt(j)))
    ) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return sign(ac - bc);
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    let firstDiff = 0;
    while (isDigitCode(a.charCodeAt(i)) && isDigitCode(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigitCode(a.charCodeAt(i))) return 1;
    if (isDigitCode(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return sign(firstDiff);
  }
  return 0;
}

/** Orders two parsed Debian versions: epoch, then upstream, then revision. */
export function compareDeb(a: DebVersion, b: DebVersion): Ordering {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return verrevcmp(a.upstream, b.upstream) || verrevcmp(a.revision, b.revision);
}

export const deb: VersionScheme<DebVersion> = { id: 'deb', parse: parseDeb, compare: compareDeb };

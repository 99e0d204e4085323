/**
 * Shared shape of a version scheme and the small helpers every scheme uses.
 *
 * A scheme is pure and synchronous: `parse` turns a raw string into a comparable value or throws
 * `EngineError('ENG_VERSION_INVALID')`, and `compare` orders two parsed values. Nothing here does
 * I/O or logs.
 */
import { EngineError } from '../errors.js';

/** Scheme ids (ARCHITECTURE §5). The id names the ordering, not the ecosystem. */
export const SCHEME_IDS = [
  'deb',
  'apk',
  'rpm',
  'semver',
  'pep440',
  'maven',
  'go',
  'gem',
  'nuget',
  'composer',
  'cargo',
] as const;

export type SchemeId = (typeof SCHEME_IDS)[number];

export type Ordering = -1 | 0 | 1;

/** One version ordering. `T` is the parsed, comparable form. */
export interface VersionScheme<T> {
  readonly id: SchemeId;
  /** Parses `raw`; throws EngineError `ENG_VERSION_INVALID` when the scheme rejects it. */
  parse(raw: string): T;
  /** -1, 0 or 1 as `a` sorts before, equal to or after `b`. */
  compare(a: T, b: T): Ordering;
}

/**
 * Longest version string any scheme accepts. Real versions are far shorter (Go pseudo-versions,
 * the longest common ones, are ~40 characters); the cap keeps a hostile string from costing
 * more than a linear scan of 512 characters.
 */
export const MAX_VERSION_LENGTH = 512;

/** Throws the coded invalid-version error. */
export function invalid(scheme: SchemeId, raw: string, reason: string): never {
  const shown = raw.length > 80 ? `${raw.slice(0, 80)}…` : raw;
  throw new EngineError(
    'ENG_VERSION_INVALID',
    `invalid ${scheme} version ${JSON.stringify(shown)}: ${reason}`,
  );
}

/**
 * Checks what every scheme rejects: a non-string, an empty (or blank) string, which is a missing
 * value rather than a version, and a string over MAX_VERSION_LENGTH.
 */
export function checkRaw(scheme: SchemeId, raw: unknown): string {
  if (typeof raw !== 'string') invalid(scheme, String(raw), 'not a string');
  if (raw.trim() === '') invalid(scheme, raw, 'empty');
  if (raw.length > MAX_VERSION_LENGTH) invalid(scheme, raw, `longer than ${MAX_VERSION_LENGTH} characters`);
  return raw;
}

/** Maps any number to -1, 0 or 1. */
export function sign(n: number): Ordering {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compares two strings by UTF-16 code unit (the same as byte order for ASCII). */
export function cmpStr(a: string, b: string): Ordering {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares two strings of ASCII digits as unbounded non-negative integers (leading zeros
 * ignored), so no scheme is limited by Number precision.
 */
export function cmpDigits(a: string, b: string): Ordering {
  let i = 0;
  let j = 0;
  while (i < a.length - 1 && a.charCodeAt(i) === 48) i++;
  while (j < b.length - 1 && b.charCodeAt(j) === 48) j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la !== lb) return la < lb ? -1 : 1;
  return cmpStr(a.slice(i), b.slice(j));
}

/** True for an ASCII digit code. */
export function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** True for an ASCII letter code. */
export function isAlphaCode(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Helpers shared by the Python parsers: name/version sanity checks, the dedupe/sort applied to
 * every lock-file result, and narrowing of parsed JSON/TOML values.
 */

/** One package as a lock-file parser sees it, before the wiring turns it into a `Package`. */
export interface LockEntry {
  name: string;
  version: string;
  /** true when the lock file marks the package as needed for development only. */
  dev?: boolean;
}

/**
 * A valid distribution name (PEP 508 `identifier`: letters, digits, `.`, `_`, `-`, starting and
 * ending with a letter or digit). Names are kept as written; matching normalises them (PEP 503).
 */
export function isDistName(name: string): boolean {
  return name.length <= 200 && /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name);
}

/** A plausible release version: non-empty, no whitespace, no wildcard, bounded length. */
export function isReleaseVersion(version: string): boolean {
  return version.length > 0 && version.length <= 256 && !/[\s*]/.test(version);
}

/**
 * Dedupes by name and version (a package is dev only if every occurrence is dev) and sorts by
 * name, then version.
 */
export function finishEntries(entries: Iterable<LockEntry>): LockEntry[] {
  const byKey = new Map<string, LockEntry>();
  for (const e of entries) {
    if (!isDistName(e.name) || !isReleaseVersion(e.version)) continue;
    const key = `${e.name}\u0000${e.version}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { name: e.name, version: e.version, dev: e.dev === true });
    else seen.dev = seen.dev === true && e.dev === true;
  }
  return [...byKey.values()].sort((a, b) =>
    a.name !== b.name
      ? a.name < b.name
        ? -1
        : 1
      : a.version < b.version
        ? -1
        : a.version > b.version
          ? 1
          : 0,
  );
}

/** Narrowing helper for parsed JSON/TOML: a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value if it is a non-empty string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export { decodeText } from '../text.js';

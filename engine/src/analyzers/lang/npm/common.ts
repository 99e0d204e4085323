import { yaml } from '../../../lazy-yaml.js';

/**
 * Helpers shared by the npm parsers: package specifiers (`name@range`, `npm:` aliases),
 * version sanity checks, and the dedupe/sort applied to every lock-file result.
 */

/** One package as a lock-file parser sees it, before the wiring turns it into a `Package`. */
export interface LockEntry {
  name: string;
  version: string;
  /** true when the lock file marks the package as needed by dev dependencies only. */
  dev?: boolean;
}

/**
 * Splits `name@rest` where the name may be scoped (`@scope/name@rest`). The separator is the
 * first `@` after the first character. Returns undefined when there is no separator.
 */
export function splitSpec(spec: string): { name: string; rest: string } | undefined {
  const at = spec.indexOf('@', 1);
  if (at <= 0) return undefined;
  return { name: spec.slice(0, at), rest: spec.slice(at + 1) };
}

/**
 * Resolves an npm alias: a version written `npm:real-name@1.2.3` means the package installed is
 * `real-name` at `1.2.3`. Anything else is returned unchanged.
 */
export function resolveAlias(name: string, version: string): { name: string; version: string } {
  if (!version.startsWith('npm:')) return { name, version };
  const real = splitSpec(version.slice(4));
  return real ? { name: real.name, version: real.rest } : { name, version };
}

const NAME_RE = /^(?:@[^\s/@]+\/)?[^\s/@][^\s/]*$/;

/** A plausible npm package name: no whitespace, at most one `/` and only after an `@scope`. */
export function isPackageName(name: string): boolean {
  return name.length > 0 && name.length <= 214 && NAME_RE.test(name);
}

/**
 * True for a version that names a published release (`1.2.3`, `1.0.0-beta.1+build`), false for
 * the protocol references lock files also carry (`git+ssh://...`, `file:../x`, `link:...`,
 * `github:user/repo#sha`, tarball URLs): those are not comparable with advisory ranges.
 */
export function isReleaseVersion(version: string): boolean {
  return version.length > 0 && version.length <= 256 && !/[\s:/]/.test(version);
}

/** The package name encoded in a node_modules path: the part after the last `node_modules/`. */
export function nameFromModulesPath(path: string): string | undefined {
  const idx = path.lastIndexOf('node_modules/');
  if (idx < 0) return undefined;
  return path.slice(idx + 'node_modules/'.length);
}

/**
 * Dedupes by name and version (a package is dev only if every occurrence is dev) and sorts by
 * name, then version, so results are stable across runs.
 */
export function finishEntries(entries: Iterable<LockEntry>): LockEntry[] {
  const byKey = new Map<string, LockEntry>();
  for (const e of entries) {
    const key = `${e.name}@${e.version}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { name: e.name, version: e.version, dev: e.dev === true });
    else seen.dev = seen.dev === true && e.dev === true;
  }
  return [...byKey.values()].sort(compareEntries);
}

function compareEntries(a: LockEntry, b: LockEntry): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  return 0;
}

/** Narrowing helper for parsed JSON/YAML: a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value if it is a non-empty string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export { decodeText } from '../text.js';

/**
 * Parses a YAML lock file. The failsafe schema keeps every scalar a string (`version: 1.10`
 * must not become the number 1.1); duplicate keys, which yarn writes in some lock files, are
 * tolerated; warnings are not printed (the engine is silent); aliases are capped.
 * @throws YAMLParseError on a syntax error.
 */
export function parseLockYaml(text: string): unknown {
  return yaml().parse(text, { schema: 'failsafe', uniqueKeys: false, maxAliasCount: 100, logLevel: 'error' });
}

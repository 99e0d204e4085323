/**
 * pnpm-lock.yaml, lockfile versions 5.x, 6.x and 9.x.
 * Format: https://github.com/pnpm/spec/tree/master/lockfile (5.2, 6.0); v9 as written by pnpm 9.
 * Package keys (dependency paths):
 * - v5: `/name/1.0.0`, `/@scope/name/1.0.0_peer@2.0.0` (peers after `_`)
 * - v6: `/name@1.0.0`, `/@scope/name@1.0.0(peer@2.0.0)` (peers in parentheses)
 * - v9: `name@1.0.0` in `packages`, with peers `name@1.0.0(peer@2.0.0)` in `snapshots`
 * Non-registry packages (git, tarball, directory) have other keys and carry `name`/`version`.
 * v5/v6 entries say `dev: true|false`; v9 drops it, so dev-only is computed from `importers`
 * (dependencies/optionalDependencies vs devDependencies) through the `snapshots` graph.
 */
import {
  type LockEntry,
  finishEntries,
  isPackageName,
  isRecord,
  isReleaseVersion,
  parseLockYaml,
  splitSpec,
  str,
} from './common.js';

/**
 * Parses a pnpm-lock.yaml text.
 * @throws YAMLParseError for text that is not YAML, TypeError when it is not a mapping.
 */
export function parsePnpmLock(text: string): LockEntry[] {
  const doc: unknown = parseLockYaml(text);
  if (!isRecord(doc)) throw new TypeError('pnpm-lock.yaml is not a YAML mapping');
  const lockVersion = Number.parseFloat(str(doc['lockfileVersion']) ?? '');
  const packages = isRecord(doc['packages']) ? doc['packages'] : {};
  const snapshots = isRecord(doc['snapshots']) ? doc['snapshots'] : {};
  const v9 = lockVersion >= 9 || Object.keys(snapshots).length > 0;
  const devOnly = v9 ? devOnlyKeys(doc['importers'], snapshots) : undefined;

  const out: LockEntry[] = [];
  for (const [key, entry] of [...Object.entries(packages), ...Object.entries(snapshots)]) {
    const id = identify(key, isRecord(entry) ? entry : {}, lockVersion);
    if (!id) continue;
    const dev = devOnly ? devOnly.has(stripPeers(key)) : isRecord(entry) && entry['dev'] === 'true';
    out.push({ name: id.name, version: id.version, dev });
  }
  return finishEntries(out);
}

/**
 * Name and version of one `packages`/`snapshots` entry, or undefined for local or unusable
 * ones. Explicit `name`/`version` fields (non-registry packages) win over the key.
 */
export function identify(
  key: string,
  entry: Record<string, unknown>,
  lockVersion: number,
): { name: string; version: string } | undefined {
  const fromKey = parseDepPath(key, lockVersion);
  const name = str(entry['name']) ?? fromKey?.name;
  const version = str(entry['version']) ?? fromKey?.version;
  if (!name || !version || !isPackageName(name) || !isReleaseVersion(version)) return undefined;
  return { name, version };
}

/**
 * Splits a dependency path into name and version, peer suffixes dropped. Lock versions below 6
 * use the slash form; 6 and later the `@` form; an unknown version tries `@` then slash.
 * Returns undefined for keys of neither form (e.g. `github.com/user/repo/sha`).
 */
export function parseDepPath(
  key: string,
  lockVersion: number,
): { name: string; version: string } | undefined {
  const path = key.startsWith('/') ? key.slice(1) : key;
  if (!(lockVersion < 6)) {
    const spec = splitSpec(stripPeers(path));
    if (spec && !spec.rest.includes('/')) return { name: spec.name, version: spec.rest };
    if (lockVersion >= 6) return spec && { name: spec.name, version: spec.rest };
  }
  // v5: `name/version[_peers]` or `@scope/name/version[_peers]` (peer suffixes never hold `/`),
  // prefixed with the registry host for packages from a non-default registry.
  const parts = path.split('/');
  if (parts.length > 2 && parts[0]!.includes('.') && !parts[0]!.startsWith('@')) parts.shift();
  const scoped = parts[0]!.startsWith('@');
  if (parts.length !== (scoped ? 3 : 2)) return undefined;
  const name = scoped ? `${parts[0]}/${parts[1]}` : parts[0]!;
  const version = parts[parts.length - 1]!.split('_')[0]!;
  return { name, version };
}

/** Drops v6/v9 `(peer@1.0.0)` suffixes. */
function stripPeers(key: string): string {
  const paren = key.indexOf('(');
  return paren > 0 ? key.slice(0, paren) : key;
}

/**
 * v9: the `name@version` keys reachable only from importers' devDependencies. Returns
 * undefined when there are no importers (nothing to decide from).
 */
function devOnlyKeys(importers: unknown, snapshots: Record<string, unknown>): Set<string> | undefined {
  if (!isRecord(importers)) return undefined;
  const prodRoots: string[] = [];
  const devRoots: string[] = [];
  for (const importer of Object.values(importers)) {
    if (!isRecord(importer)) continue;
    prodRoots.push(...depKeys(importer['dependencies']), ...depKeys(importer['optionalDependencies']));
    devRoots.push(...depKeys(importer['devDependencies']));
  }
  const prod = reach(prodRoots, snapshots);
  const dev = reach(devRoots, snapshots);
  const out = new Set<string>();
  for (const k of dev) if (!prod.has(k)) out.add(stripPeers(k));
  for (const k of prod) out.delete(stripPeers(k));
  return out;
}

/** Snapshot keys referenced by a dependency map (`name: version` or `name: {version}`). */
function depKeys(deps: unknown): string[] {
  if (!isRecord(deps)) return [];
  const out: string[] = [];
  for (const [name, value] of Object.entries(deps)) {
    const version = isRecord(value) ? str(value['version']) : str(value);
    if (!version || version.startsWith('link:')) continue;
    // aliases reference the real package: `alias: real-name@1.0.0`
    out.push(/^(?:@[^/@()]+\/)?[^@/:()]+@/.test(version) ? version : `${name}@${version}`);
  }
  return out;
}

function reach(roots: string[], snapshots: Record<string, unknown>): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const key = queue.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    const snap = snapshots[key];
    if (!isRecord(snap)) continue;
    queue.push(...depKeys(snap['dependencies']), ...depKeys(snap['optionalDependencies']));
  }
  return seen;
}

/**
 * npm lock files: package-lock.json and npm-shrinkwrap.json.
 * Format: https://docs.npmjs.com/cli/v10/configuring-npm/package-lock-json
 * - v1 (npm 5-6): a nested `dependencies` tree keyed by package name; a version written
 *   `npm:real@1.2.3` is an alias.
 * - v2 (npm 7-8): both the v1 tree (for old clients) and a flat `packages` map keyed by the
 *   install path (`node_modules/a/node_modules/b`); the map is authoritative.
 * - v3 (npm 9+): `packages` only.
 * In `packages`, the root project is the `""` key, workspace folders are keys outside any
 * node_modules, `link: true` entries point at them, and `name` is set when the folder name
 * differs from the package name (aliases).
 */
import {
  type LockEntry,
  finishEntries,
  isPackageName,
  isRecord,
  isReleaseVersion,
  nameFromModulesPath,
  resolveAlias,
  str,
} from './common.js';

/**
 * Parses a package-lock.json / npm-shrinkwrap.json text.
 *
 * @returns deduped, sorted entries. Entries without a release version (git, file, tarball
 *   references whose version is a URL) are left out: they cannot be matched against advisories.
 * @throws SyntaxError when the text is not JSON, TypeError when it is not a JSON object.
 */
export function parsePackageLock(text: string): LockEntry[] {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc)) throw new TypeError('package-lock is not a JSON object');
  if (isRecord(doc['packages'])) return finishEntries(fromPackagesMap(doc['packages']));
  if (isRecord(doc['dependencies'])) return finishEntries(fromDependencyTree(doc['dependencies']));
  return [];
}

function* fromPackagesMap(packages: Record<string, unknown>): Generator<LockEntry> {
  for (const [path, entry] of Object.entries(packages)) {
    if (path === '' || !isRecord(entry) || entry['link'] === true) continue;
    const folderName = nameFromModulesPath(path);
    // keys outside node_modules are workspace folders: the project's own code.
    if (folderName === undefined) continue;
    const version = str(entry['version']);
    if (!version) continue;
    const resolved = resolveAlias(str(entry['name']) ?? folderName, version);
    const e = entry as { dev?: unknown };
    yield* checked(resolved.name, resolved.version, e.dev === true);
  }
}

function* fromDependencyTree(root: Record<string, unknown>): Generator<LockEntry> {
  // iterative walk: hostile inputs may nest deeply.
  const stack: Record<string, unknown>[] = [root];
  while (stack.length > 0) {
    const deps = stack.pop()!;
    for (const [key, entry] of Object.entries(deps)) {
      if (!isRecord(entry)) continue;
      if (isRecord(entry['dependencies'])) stack.push(entry['dependencies']);
      const version = str(entry['version']);
      if (!version) continue;
      // keys are package names; tolerate a path-like key (`node_modules/x`) by taking its tail.
      const name = nameFromModulesPath(key) ?? key;
      const resolved = resolveAlias(name, version);
      yield* checked(resolved.name, resolved.version, entry['dev'] === true);
    }
  }
}

function* checked(name: string, version: string, dev: boolean): Generator<LockEntry> {
  if (isPackageName(name) && isReleaseVersion(version)) yield { name, version, dev };
}

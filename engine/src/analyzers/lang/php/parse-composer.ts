/**
 * Composer's package lists. Both files hold package objects in the same shape (the
 * `composer.json` schema plus the resolved `version`, https://getcomposer.org/doc/04-schema.md):
 *
 * - `composer.lock` (https://getcomposer.org/doc/01-basic-usage.md#commit-your-composer-lock-file-to-version-control):
 *   `{ "packages": [...], "packages-dev": [...] }`; `packages-dev` entries are dev-only.
 * - `vendor/composer/installed.json`, written by `composer install`: Composer 1 writes a bare
 *   array of packages; Composer 2 writes `{ "packages": [...], "dev": bool,
 *   "dev-package-names": [...] }` (Composer's `FilesystemRepository::write`).
 *
 * Versions are kept as written (`v4.6.2` stays `v4.6.2`), as trivy, syft and osv-scanner do.
 * GitHub advisories for Packagist write ranges without the `v` (`4.6.2`); the comparison is
 * left to the composer version scheme, which, like Composer's `VersionParser::normalize` and
 * OSV's Packagist comparator, must ignore a leading `v`/`V`.
 */

/** One package from a Composer list. */
export interface ComposerPackage {
  name: string;
  version: string;
  licenses?: string[];
  dev?: boolean;
}

/** Packages plus human-readable problems about entries that were skipped. */
export interface ComposerResult {
  packages: ComposerPackage[];
  problems: string[];
}

/** Thrown when the file is not JSON or not a Composer package list at all. */
export class ComposerFormatError extends Error {
  override name = 'ComposerFormatError';
}

/** Parses `composer.lock` text. Throws ComposerFormatError when it is not a Composer lock file. */
export function parseComposerLock(text: string): ComposerResult {
  const doc = parseJson(text, 'composer.lock');
  if (!isObject(doc) || (!Array.isArray(doc.packages) && !Array.isArray(doc['packages-dev']))) {
    throw new ComposerFormatError('composer.lock: no "packages" or "packages-dev" array');
  }
  const out: ComposerResult = { packages: [], problems: [] };
  collect(doc.packages, () => false, out, 'packages');
  collect(doc['packages-dev'], () => true, out, 'packages-dev');
  return out;
}

/**
 * Parses `vendor/composer/installed.json` text (Composer 1 or 2). Composer 2's
 * `dev-package-names` marks packages installed only as dev requirements (`dev: true`).
 * Throws ComposerFormatError when it is not an installed.json.
 */
export function parseComposerInstalled(text: string): ComposerResult {
  const doc = parseJson(text, 'installed.json');
  const out: ComposerResult = { packages: [], problems: [] };
  if (Array.isArray(doc)) {
    collect(doc, () => false, out, 'installed.json');
  } else if (isObject(doc) && Array.isArray(doc.packages)) {
    const devNames = new Set(
      Array.isArray(doc['dev-package-names'])
        ? doc['dev-package-names'].filter((n) => typeof n === 'string')
        : [],
    );
    collect(doc.packages, (name) => devNames.has(name), out, 'packages');
  } else {
    throw new ComposerFormatError(
      'installed.json: neither a package array (Composer 1) nor {"packages": [...]}',
    );
  }
  return out;
}

function collect(list: unknown, isDev: (name: string) => boolean, out: ComposerResult, where: string): void {
  if (!Array.isArray(list)) return;
  let skipped = 0;
  for (const entry of list) {
    const name = isObject(entry) ? entry.name : undefined;
    const version = isObject(entry) ? entry.version : undefined;
    if (!isObject(entry) || !isToken(name) || !isToken(version)) {
      skipped++;
      continue;
    }
    const pkg: ComposerPackage = { name, version };
    const licenses = readLicenses(entry.license);
    if (licenses.length > 0) pkg.licenses = licenses;
    if (isDev(name)) pkg.dev = true;
    out.packages.push(pkg);
  }
  if (skipped > 0)
    out.problems.push(
      `${where}: ${skipped} entr${skipped === 1 ? 'y' : 'ies'} without a name and version skipped`,
    );
}

/** `license` is a string or an array of strings (composer.json schema). */
function readLicenses(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return list
    .filter((l): l is string => typeof l === 'string')
    .map((l) => l.trim())
    .filter(Boolean);
}

function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !/\s/.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ComposerFormatError(`${what}: invalid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Package ecosystems, named by their package-url type (https://github.com/package-url/purl-spec).
 * OS package managers: apk, deb, rpm. Language ecosystems: the rest.
 */
export const ECOSYSTEMS = [
  'apk',
  'deb',
  'rpm',
  'npm',
  'pypi',
  'golang',
  'maven',
  'gem',
  'cargo',
  'composer',
  'nuget',
] as const;

export type Ecosystem = (typeof ECOSYSTEMS)[number];

export const OS_ECOSYSTEMS: ReadonlySet<Ecosystem> = new Set(['apk', 'deb', 'rpm']);

/**
 * One installed (or, for directory scans, declared) package.
 *
 * `version` is the full version in the ecosystem's own notation, comparable with that
 * ecosystem's scheme: deb `1:2.36-9+deb12u4`, apk `1.1.1d-r0`, rpm `1:3.0.7-16.el9` (epoch
 * only when above 0, since rpm compares a missing epoch as 0; the header's own value is in metadata.epoch), Go `v1.2.3` (the Go toolchain as name `stdlib`), Maven
 * name `groupId:artifactId`, Composer `vendor/name`.
 */
export interface Package {
  name: string;
  version: string;
  ecosystem: Ecosystem;
  /** package-url; filled in by the core after the OS is known (see purl.ts). */
  purl?: string;
  /** OS source package name and version (dpkg `Source:`, apk origin, rpm SOURCERPM). */
  srcName?: string;
  srcVersion?: string;
  arch?: string;
  licenses?: string[];
  /** diffID of the layer that introduced this package (image scans). */
  layer?: string;
  /** image-relative path of the file the package was found in (no leading slash). */
  path?: string;
  /** name of the analyzer that found it, e.g. `os/apk`. */
  foundBy: string;
  /** true when only declared (lock files) rather than installed. */
  declared?: boolean;
  /** true for development-only dependencies from lock files. */
  dev?: boolean;
  /** ecosystem-specific extras (rpm vendor, modularity label, epoch...). Plain JSON only. */
  metadata?: Record<string, string | number | boolean | null>;
}

/**
 * The format-neutral middle of SBOM reading: CycloneDX components and SPDX packages become
 * entries (cyclonedx.ts, spdx.ts), entries become Packages here.
 */
import type { OsRelease } from '../../model/os.js';
import type { Package } from '../../model/package.js';
import type { Unknown } from '../../model/unknown.js';
import { parsePurl } from '../../policy/purl-match.js';
import { distroFromPurl, packageFromPurl } from './purl-package.js';

/** Where a package was found and its source package, as an SBOM tool recorded it. */
export interface EntryDetails {
  foundBy?: string;
  layer?: string;
  path?: string;
  srcName?: string;
  srcVersion?: string;
}

/** One package-like element of an SBOM. */
export interface SbomEntry {
  /** JSON location for messages: `components[3]`, `packages[7]` */
  where: string;
  /** CycloneDX bom-ref / SPDX id */
  ref?: string;
  purl?: string;
  name?: string;
  version?: string;
  licenses?: string[];
  /** details from tool-specific properties (Vigil, trivy, syft), most trusted first */
  details: EntryDetails;
}

export interface EntriesResult {
  packages: Package[];
  unknowns: Unknown[];
  /** OS releases stated by OS package purls (`distro` qualifier), in order of appearance */
  distros: OsRelease[];
}

/** Removes one leading `/`: Package paths are image-relative. */
const relative = (p: string | undefined) => p?.replace(/^\/+/, '') || undefined;

/**
 * Turns entries into packages. Entries without a purl are counted in one unknown; an invalid purl
 * or a purl without any version is an unknown of its own; unsupported purl types are counted per
 * type (one unknown each, with an example).
 */
export function entriesToPackages(
  entries: readonly SbomEntry[],
  options: { source: string; foundBy: string; refKey: 'bomRef' | 'spdxId' },
): EntriesResult {
  const packages: Package[] = [];
  const unknowns: Unknown[] = [];
  const distros: OsRelease[] = [];
  const unsupported = new Map<string, { count: number; example: string }>();
  let withoutPurl = 0;
  const unknown = (message: string) =>
    unknowns.push({ path: options.source, message, source: options.foundBy });

  for (const e of entries) {
    if (!e.purl) {
      withoutPurl++;
      continue;
    }
    const p = parsePurl(e.purl);
    if (!p) {
      unknown(`${e.where}: invalid purl "${e.purl.slice(0, 200)}"`);
      continue;
    }
    const fields = packageFromPurl(p, e.name, e.version);
    if (fields === 'unsupported') {
      const u = unsupported.get(p.type);
      if (u) u.count++;
      else unsupported.set(p.type, { count: 1, example: e.purl.slice(0, 200) });
      continue;
    }
    if (fields === 'no-version') {
      unknown(`${e.where}: ${e.purl.slice(0, 200)} has no version`);
      continue;
    }
    const d = distroFromPurl(p);
    if (d && !distros.some((x) => x.family === d.family && x.version === d.version)) distros.push(d);

    const pkg: Package = { ...fields, purl: e.purl, foundBy: e.details.foundBy ?? options.foundBy };
    const { srcName, srcVersion } = e.details;
    if (srcName) {
      if (srcName !== pkg.srcName) delete pkg.srcVersion;
      pkg.srcName = srcName;
      if (srcVersion) pkg.srcVersion = srcVersion;
    }
    if (e.licenses && e.licenses.length > 0) pkg.licenses = e.licenses;
    const layer = e.details.layer;
    if (layer) pkg.layer = layer;
    const path = relative(e.details.path);
    if (path) pkg.path = path;
    if (e.ref) pkg.metadata = { [options.refKey]: e.ref };
    packages.push(pkg);
  }

  if (withoutPurl > 0) {
    unknown(
      `${withoutPurl} package${withoutPurl === 1 ? '' : 's'} without a purl skipped (cannot be matched)`,
    );
  }
  for (const [type, { count, example }] of [...unsupported].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    unknown(
      `${count} package${count === 1 ? '' : 's'} with unsupported purl type "${type}" skipped (e.g. ${example})`,
    );
  }
  return { packages, unknowns, distros };
}

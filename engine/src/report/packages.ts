/**
 * Shared by every inventory format: the deterministic package order and purl resolution, and
 * the tool identity written into SBOM metadata.
 */
import type { Package } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import { toPurl } from '../purl/index.js';

/** Name and version Vigil writes as the producing tool (kept equal to engine/package.json by a test). */
export const REPORT_TOOL = { name: 'vigil', version: '0.1.0' } as const;

/** A package with its purl resolved (the one on the package, else made from it and the OS). */
export interface ResolvedPackage {
  pkg: Package;
  purl: string;
}

/** Plain code-unit order, independent of locale and ICU data. */
export function compareText(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Report order: ecosystem, name, version, path, then layer as the last tie-breaker. */
export function comparePackages(a: Package, b: Package): number {
  return (
    compareText(a.ecosystem, b.ecosystem) ||
    compareText(a.name, b.name) ||
    compareText(a.version, b.version) ||
    compareText(a.path, b.path) ||
    compareText(a.layer, b.layer)
  );
}

/**
 * The purl of a package: the one the scan set, else made by toPurl; `''` when none can be made
 * (toPurl throws on some hostile names, e.g. a lone UTF-16 surrogate from a JSON `\ud800`
 * escape): a report never fails on package content.
 */
export function purlOf(pkg: Package, os: ScanResult['os']): string {
  if (pkg.purl !== undefined) return pkg.purl;
  try {
    return toPurl(pkg, os);
  } catch {
    return '';
  }
}

/** The scan's packages in report order, each with its purl. Does not modify the scan. */
export function resolvePackages(scan: ScanResult): ResolvedPackage[] {
  return [...scan.packages].sort(comparePackages).map((pkg) => ({ pkg, purl: purlOf(pkg, scan.os) }));
}

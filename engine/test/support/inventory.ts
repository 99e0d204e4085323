/**
 * Normalised views of scan results for end-to-end assertions: layer diffIDs become layer
 * indexes (diffIDs change per build, since umoci stamps mtimes), timestamps and purls are left
 * out, so one expected structure serves every source format of the same image.
 */
import type { Package, ScanResult, Unknown } from '../../src/model/index.js';

/** One package as the goldens record it. `layer` is the index of the introducing layer. */
export interface NormalPackage {
  ecosystem: string;
  name: string;
  version: string;
  srcName?: string;
  path?: string;
  layer?: number;
}

export interface NormalUnknown {
  path: string;
  layer?: number;
  source?: string;
}

export interface NormalInventory {
  os?: { family: string; version: string };
  packages: NormalPackage[];
  unknowns: NormalUnknown[];
  status: ScanResult['status'];
}

/** diffID → layer index; an unknown diffID is kept as is so a mismatch shows in the diff. */
export function layerIndexer(
  diffIds: readonly string[],
): (diffId: string | undefined) => number | string | undefined {
  const index = new Map(diffIds.map((d, i) => [d, i]));
  return (diffId) => (diffId === undefined || diffId === '' ? undefined : (index.get(diffId) ?? diffId));
}

/** A package without purl, licenses, arch, metadata; layer as index (see module comment). */
export function normalPackage(
  p: Pick<Package, 'ecosystem' | 'name' | 'version' | 'srcName' | 'path' | 'layer'>,
  layerOf: (diffId: string | undefined) => number | string | undefined,
): NormalPackage {
  const out: NormalPackage = { ecosystem: p.ecosystem, name: p.name, version: p.version };
  if (p.srcName) out.srcName = p.srcName;
  if (p.path) out.path = p.path;
  const layer = layerOf(p.layer);
  if (layer !== undefined) out.layer = layer as number;
  return out;
}

function normalUnknown(
  u: Unknown,
  layerOf: (diffId: string | undefined) => number | string | undefined,
): NormalUnknown {
  const out: NormalUnknown = { path: u.path };
  const layer = layerOf(u.layer);
  if (layer !== undefined) out.layer = layer as number;
  if (u.source) out.source = u.source;
  return out;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The whole scan in normalised form: os, packages (engine order), unknowns sorted by path. */
export function normalizeScan(scan: ScanResult): NormalInventory {
  const layerOf = layerIndexer(scan.artifact.layers?.map((l) => l.diffId) ?? []);
  const out: NormalInventory = {
    packages: scan.packages.map((p) => normalPackage(p, layerOf)),
    unknowns: scan.unknowns
      .map((u) => normalUnknown(u, layerOf))
      .sort((a, b) => byText(a.path, b.path) || byText(a.source ?? '', b.source ?? '')),
    status: scan.status,
  };
  if (scan.os) out.os = { family: scan.os.family, version: scan.os.version };
  return out;
}

/** `name version` lines of one ecosystem, sorted: the shape of `dpkg-query -W` / apk oracles. */
export function nameVersions(scan: Pick<ScanResult, 'packages'>, ecosystem: string): string[] {
  return scan.packages
    .filter((p) => p.ecosystem === ecosystem)
    .map((p) => `${p.name} ${p.version}`)
    .sort(byText);
}

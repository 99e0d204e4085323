/**
 * Merges per-layer analyses into the image's inventory, the way the union filesystem would
 * show it: upper layers replace files, whiteouts and opaque directories hide lower content.
 * Then: OS pick, package locations and introducing layers, and OS-owned files removed from
 * language results (a Debian python3-requests is an OS package, not a second PyPI finding).
 */
import type { FileAnalysis, LayerAnalysis } from '../image/walk/types.js';
import { isUnder, resolveInRoot } from '../image/walk/paths.js';
import type { OsRelease } from '../model/os.js';
import { OS_ECOSYSTEMS, type Package } from '../model/package.js';
import type { Unknown } from '../model/unknown.js';

export interface MergedInventory {
  /** every OS release candidate of the merged view (the caller picks one) */
  osCandidates: OsRelease[];
  packages: Package[];
  unknowns: Unknown[];
}

interface FileState {
  layer: string;
  analyses: FileAnalysis[];
}

function deleteUnder<V>(map: Map<string, V>, dir: string, includeSelf: boolean): void {
  for (const key of map.keys()) {
    if (isUnder(key, dir) && (includeSelf || key !== dir)) map.delete(key);
  }
}

const pkgKey = (p: Package) => `${p.ecosystem}\0${p.name}\0${p.version}\0${p.arch ?? ''}`;

/** Merges layer analyses (bottom-up order) into one inventory. */
export function mergeLayers(layers: readonly LayerAnalysis[]): MergedInventory {
  const state = new Map<string, FileState>();
  const links = new Map<string, string>();
  // per path: every layer's version of it, to find the layer that introduced each OS package
  const history = new Map<string, FileState[]>();
  const walkUnknowns: Unknown[] = [];

  // a deleted file is a gap in its history: a package re-created later is introduced there
  const markGaps = (dir: string, includeSelf: boolean, layer: string) => {
    for (const [key, h] of history) {
      if (state.has(key) && isUnder(key, dir) && (includeSelf || key !== dir))
        h.push({ layer, analyses: [] });
    }
  };

  for (const layer of layers) {
    for (const dir of layer.opaqueDirs) {
      markGaps(dir, false, layer.diffId);
      deleteUnder(state, dir, false);
      deleteUnder(links, dir, false);
    }
    for (const path of layer.whiteouts) {
      markGaps(path, true, layer.diffId);
      deleteUnder(state, path, true);
      deleteUnder(links, path, true);
    }
    const byPath = new Map<string, FileAnalysis[]>();
    for (const f of layer.files) {
      const list = byPath.get(f.path);
      if (list) list.push(f);
      else byPath.set(f.path, [f]);
    }
    for (const [path, analyses] of byPath) {
      const entry = { layer: layer.diffId, analyses };
      state.set(path, entry);
      links.delete(path);
      const h = history.get(path);
      if (h) h.push(entry);
      else history.set(path, [entry]);
    }
    for (const [path, target] of Object.entries(layer.symlinks)) {
      links.set(path, target);
      state.delete(path);
    }
    for (const u of layer.unknowns)
      walkUnknowns.push(Object.assign({}, u, { layer: u.layer ?? (layer.diffId || undefined) }));
  }

  const osCandidates: OsRelease[] = [];
  const owned = new Set<string>();
  const packages: Package[] = [];
  const unknowns: Unknown[] = [...walkUnknowns];
  const keySets = new Map<FileAnalysis, ReadonlySet<string>>();
  const keysOf = (a: FileAnalysis): ReadonlySet<string> => {
    let keys = keySets.get(a);
    if (!keys) keySets.set(a, (keys = new Set((a.result.packages ?? []).map(pkgKey))));
    return keys;
  };

  // /etc/os-release is often a link to ../usr/lib/os-release: report the link's path as source
  for (const [path, target] of links) {
    if (path !== 'etc/os-release') continue;
    const real = resolveInRoot(path, links);
    const os = real === undefined ? undefined : state.get(real)?.analyses.find((a) => a.result.os)?.result.os;
    if (os) osCandidates.push({ ...os, source: `${path} -> ${target}` });
  }

  for (const [path, entry] of state) {
    for (const a of entry.analyses) {
      const r = a.result;
      if (r.os) osCandidates.push(r.os);
      for (const f of r.ownedFiles ?? []) owned.add(f);
      for (const u of r.unknowns ?? [])
        unknowns.push(Object.assign({}, u, { layer: u.layer ?? (entry.layer || undefined) }));
      if (!r.packages) continue;
      const hist = history.get(path) ?? [];
      for (const p of r.packages) {
        // Object.assign, not `{ ...p, path }`: V8 copies parsed-JSON objects of many shapes (the
        // layer cache's) with a spread through its slow generic path, 10–20× the cost; the merge
        // of a warm rescan (bench B2) spent most of its time there
        const pkg: Package = Object.assign({}, p);
        pkg.path = p.path || path;
        if (entry.layer)
          pkg.layer = OS_ECOSYSTEMS.has(p.ecosystem)
            ? (introducedIn(p, a.analyzer, hist, keysOf) ?? entry.layer)
            : entry.layer;
        packages.push(pkg);
      }
    }
  }

  const kept = packages.filter((p) => OS_ECOSYSTEMS.has(p.ecosystem) || !p.path || !owned.has(p.path));
  kept.sort(comparePackages);
  return { osCandidates, packages: kept, unknowns };
}

/** The oldest layer from which this exact package has been in the file without a gap
 * (`keysOf`: the package keys of an analysis, built once per analysis). */
function introducedIn(
  p: Package,
  analyzer: string,
  hist: readonly FileState[],
  keysOf: (a: FileAnalysis) => ReadonlySet<string>,
): string | undefined {
  const key = pkgKey(p);
  let since: string | undefined;
  for (const h of hist) {
    const has = h.analyses.some((a) => a.analyzer === analyzer && keysOf(a).has(key));
    if (has) since ??= h.layer;
    else since = undefined;
  }
  return since;
}

/** Deterministic package order: ecosystem, name, version, path. */
export function comparePackages(a: Package, b: Package): number {
  return (
    cmp(a.ecosystem, b.ecosystem) ||
    cmp(a.name, b.name) ||
    cmp(a.version, b.version) ||
    cmp(a.path ?? '', b.path ?? '') ||
    cmp(a.arch ?? '', b.arch ?? '')
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

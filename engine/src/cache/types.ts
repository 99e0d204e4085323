/**
 * Layer cache: per-layer analysis results keyed by (diffID, walker version, analyzer versions,
 * limits). The CLI and all-in-one server use the local directory cache; the fleet implements the
 * same interface over a shared store.
 *
 * A cache may also keep what the scan made of a whole layer stack (the merged inventory: OS,
 * packages with locations, introducing layers and purls), keyed by the stack's diffIDs in order
 * like an OCI ChainID: a rescan of an image whose stack is known reads one entry instead of
 * merging every layer again (bench B2), whatever its tags or config say.
 */
import { createHash } from 'node:crypto';
import type { Analyzer } from '../analyzers/types.js';
import type { LayerAnalysis, WalkLimits } from '../image/walk/types.js';
import { WALK_VERSION } from '../image/walk/types.js';
import type { OsRelease } from '../model/os.js';
import type { Package } from '../model/package.js';
import type { Unknown } from '../model/unknown.js';

/**
 * Version of what a scan makes of analysed layers (merge, OS pick, purls): part of every stack
 * key, so bump it whenever one of them makes something else of the same layers.
 */
export const STACK_VERSION = 1;

/** The merged inventory of a layer stack whose every layer was analysed completely. */
export interface StackInventory {
  /** the stack's layer diffIDs, bottom-up (checked against the scanned source on a hit) */
  diffIds: string[];
  os?: OsRelease;
  /** in report order, each with its path, introducing layer and purl */
  packages: Package[];
  unknowns: Unknown[];
  /** files analysed in each layer, for the layer-done events of a hit */
  layerFiles: number[];
}

export interface LayerCache {
  /** The cached analysis, or undefined on a miss (also for unreadable entries). */
  get(key: string, signal?: AbortSignal): Promise<LayerAnalysis | undefined>;
  /** Stores an analysis. Failures are reported through the returned promise; callers may ignore them. */
  put(key: string, value: LayerAnalysis, signal?: AbortSignal): Promise<void>;
  /** The merged inventory of a layer stack (key: stackCacheKey), or undefined; optional. */
  getStack?(key: string, signal?: AbortSignal): Promise<StackInventory | undefined>;
  /** Stores a stack's merged inventory; optional, failures as for put. */
  putStack?(key: string, value: StackInventory, signal?: AbortSignal): Promise<void>;
}

/** Cache key of a layer analysed by these analyzers under these limits. */
export function layerCacheKey(
  diffId: string,
  analyzers: readonly Analyzer[],
  limits: Pick<WalkLimits, 'maxFileSize'>,
): string {
  const versions = analyzers.map((a) => `${a.name}@${a.version}`).sort();
  const h = createHash('sha256');
  h.update(JSON.stringify({ walk: WALK_VERSION, diffId, versions, maxFileSize: limits.maxFileSize }));
  return h.digest('hex');
}

/** Key of a layer stack's merged inventory: its diffIDs in order, and all that layerCacheKey covers. */
export function stackCacheKey(
  diffIds: readonly string[],
  analyzers: readonly Analyzer[],
  limits: Pick<WalkLimits, 'maxFileSize'>,
): string {
  const versions = analyzers.map((a) => `${a.name}@${a.version}`).sort();
  const h = createHash('sha256');
  h.update(
    JSON.stringify({
      stack: STACK_VERSION,
      walk: WALK_VERSION,
      diffIds,
      versions,
      maxFileSize: limits.maxFileSize,
    }),
  );
  return h.digest('hex');
}

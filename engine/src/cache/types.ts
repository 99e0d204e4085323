/**
 * Layer cache: per-layer analysis results keyed by (diffID, walker version, analyzer versions,
 * limits). The CLI and all-in-one server use the local directory cache; the fleet implements the
 * same interface over a shared store.
 */
import { createHash } from 'node:crypto';
import type { Analyzer } from '../analyzers/types.js';
import type { LayerAnalysis, WalkLimits } from '../image/walk/types.js';
import { WALK_VERSION } from '../image/walk/types.js';

export interface LayerCache {
  /** The cached analysis, or undefined on a miss (also for unreadable entries). */
  get(key: string, signal?: AbortSignal): Promise<LayerAnalysis | undefined>;
  /** Stores an analysis. Failures are reported through the returned promise; callers may ignore them. */
  put(key: string, value: LayerAnalysis, signal?: AbortSignal): Promise<void>;
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

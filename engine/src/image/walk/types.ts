/**
 * What one walk (a layer, or a directory) yields. This is the unit of the layer cache, so it is
 * plain JSON: results keyed by file path, plus the layer's deletions and symlinks, which the
 * merge applies to the layers below.
 */
import type { AnalysisResult } from '../../analyzers/types.js';
import type { Unknown } from '../../model/unknown.js';

export interface FileAnalysis {
  /** image-relative path of the analyzed file */
  path: string;
  /** analyzer name */
  analyzer: string;
  result: AnalysisResult;
}

export interface LayerAnalysis {
  /** walker format version: bump when this shape or walk semantics change */
  walkVersion: number;
  diffId: string;
  files: FileAnalysis[];
  /** paths deleted by `.wh.<name>` entries (apply to lower layers) */
  whiteouts: string[];
  /** directories made opaque by `.wh..wh..opq` (hide lower layers' content) */
  opaqueDirs: string[];
  /** symlinks: image-relative path → target as stored */
  symlinks: Record<string, string>;
  /** walk-level problems (unsafe names, size caps, corrupt data) */
  unknowns: Unknown[];
  /** false when the walk stopped early (corrupt stream); such results are never cached */
  complete: boolean;
  stats: { entries: number; bytes: number; analyzedFiles: number };
}

export const WALK_VERSION = 3;

export interface WalkLimits {
  /** largest file handed to an analyzer, bytes (default 512 MiB) */
  maxFileSize: number;
  /** largest uncompressed layer, bytes (default 16 GiB): decompression bombs stop here */
  maxLayerBytes: number;
  /** files larger than this are spooled to a temp file instead of memory (default 8 MiB) */
  spoolThreshold: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = {
  maxFileSize: 512 * 1024 * 1024,
  maxLayerBytes: 16 * 1024 * 1024 * 1024,
  spoolThreshold: 8 * 1024 * 1024,
};

/**
 * @vigil/engine/core: scanning (images, directories, SBOMs), inventories, reports, CI policy,
 * version schemes and purls — everything that needs no vulnerability database. The CLI loads
 * this at start-up and the database side (`./db`) only when it matches or manages a database.
 */
export * from './model/index.js';
export { EngineError, isEngineError, ENGINE_ERROR_CODES, type EngineErrorCode } from './errors.js';
export type {
  Analyzer,
  AnalyzerInput,
  AnalysisResult,
  AnalyzerTag,
  FileContent,
  FileInfo,
} from './analyzers/types.js';
export { ANALYZERS, selectAnalyzers, type AnalyzerName, type ScanMode } from './analyzers/index.js';
export type { ImageSource, ImageConfig, LayerDescriptor, Platform } from './image/types.js';
export { parsePlatform, DEFAULT_PLATFORM } from './image/types.js';
export {
  scanImage,
  openTarget,
  type ScanTarget,
  type ScanImageOptions,
  type RegistryOptions,
} from './scan/scan-image.js';
export { scanSource, type ScanSourceOptions, type ScanLimits } from './scan/scan-source.js';
export type { ScanEvent, ScanEventListener } from './scan/events.js';
export type { LayerCache } from './cache/types.js';
export { asciiJson, FsLayerCache, type FsLayerCacheOptions } from './cache/fs-layer-cache.js';
export { toPurl } from './purl/index.js';
export {
  renderReport,
  renderInventory,
  renderTable,
  isReportFormat,
  REPORT_FORMATS,
  REPORT_TOOL,
  FINDING_SORTS,
  type ReportFormat,
  type RenderOptions,
  type FindingSort,
  type ReportInput,
  type VigilReport,
} from './report/index.js';
export {
  compareVersions,
  isValidVersion,
  schemeFor,
  isAffected,
  satisfiesRange,
  SCHEME_IDS,
  type SchemeId,
  type Ordering,
  type AffectedVerdict,
  type AffectedSpec,
} from './versions/index.js';
export {
  readIgnoreFile,
  parseIgnoreFile,
  applyIgnoreFile,
  readVexFile,
  parseVex,
  applyVex,
  evaluateGate,
  filterFindings,
  parseSeverities,
  sortFindings,
  SORT_ORDERS,
  type IgnoreEntry,
  type IgnoreResult,
  type VexDocument,
  type VexResult,
  type GateOptions,
  type GateResult,
  type SortOrder,
} from './policy/index.js';
export { readSbom, parseSbom, detectSbomFormat, type SbomFormat } from './image/sbom/index.js';
export { FEED_NAMES } from './feeds/names.js';

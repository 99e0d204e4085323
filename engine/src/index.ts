/**
 * @vigil/engine public API. Everything exported here is a contract (ARCHITECTURE §5).
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
export { FsLayerCache, type FsLayerCacheOptions } from './cache/fs-layer-cache.js';
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
  scoreCvss,
  severityFromScore,
  pickSeverity,
  type CvssScore,
  type PickSeverityOptions,
  type SeverityChoice,
  type SeverityRecord,
} from './cvss/index.js';
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
  SnapshotReader,
  SnapshotWriter,
  openSnapshot,
  readSnapshotMeta,
  buildSnapshot,
  updateSnapshot,
  exportSnapshot,
  importSnapshot,
  verifySnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  type AdvisoryReader,
  type SnapshotMeta,
  type SourceMeta,
  type BuildSnapshotOptions,
  type BuildSnapshotResult,
  type BuildProgress,
  type UpdateSnapshotOptions,
  type UpdateSnapshotResult,
  type UpdateProgress,
  type FeedOutcome,
  type ExportManifest,
} from './vulndb/index.js';
export { FEEDS, FEED_NAMES, selectFeeds } from './feeds/index.js';
export type { Feed, FeedRecord, FeedBody, FeedCheckpoint, FetchContext, FetchResult } from './feeds/types.js';
export {
  matchInventory,
  MATCHERS,
  MATCHER_NAMES,
  MATCH_WARNING_CODES,
  SUPPORTED_OS_FAMILIES,
  type MatchOptions,
  type MatchWarningCode,
  type Matcher,
  type MatchEnv,
  type DistroTarget,
  type LookupKey,
  type RowVerdict,
} from './matchers/index.js';
export {
  MemoryAdvisoryReader,
  fileBody,
  type MemoryReaderOptions,
  type ApplyOptions,
} from './advisories/index.js';
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

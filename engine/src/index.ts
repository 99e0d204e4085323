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
export { renderInventory, REPORT_FORMATS } from './report/index.js';
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

/**
 * @vigil/engine public API. Everything exported here is a contract (ARCHITECTURE §5).
 */
export * from './model/index.js';
export { EngineError, isEngineError, ENGINE_ERROR_CODES, type EngineErrorCode } from './errors.js';
export type { Analyzer, AnalyzerInput, AnalysisResult, AnalyzerTag, FileContent, FileInfo } from './analyzers/types.js';
export type { ImageSource, ImageConfig, LayerDescriptor, Platform } from './image/types.js';

/**
 * @vigil/engine/db: the vulnerability database (snapshot store, feeds, build and update),
 * matching (matchers, in-memory advisories) and CVSS scoring.
 */
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
export { FEEDS, selectFeeds } from './feeds/index.js';
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

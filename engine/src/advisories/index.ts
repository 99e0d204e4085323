/**
 * Advisory access for matching: the AdvisoryReader contract (declared with the snapshot store in
 * vulndb/types.ts) and an in-memory implementation loaded from FeedRecords, for tests and for
 * callers that match against a few feed files without building a snapshot.
 */
export type { AdvisoryReader, SnapshotMeta, SourceMeta } from '../vulndb/types.js';
export { MemoryAdvisoryReader, type MemoryReaderOptions, type ApplyOptions } from './memory-reader.js';
export { fileBody } from './file-body.js';

/**
 * The vulnerability database: snapshot store (writer, reader), offline build, online update,
 * export/import for air-gapped sites.
 */
export * from './types.js';
export {
  SnapshotWriter,
  type SnapshotWriterOptions,
  type ApplySourceOptions,
  type FeedIdentity,
} from './snapshot-writer.js';
export { SnapshotReader, openSnapshot, readSnapshotMeta } from './snapshot-reader.js';
export {
  buildSnapshot,
  type BuildSnapshotOptions,
  type BuildSnapshotResult,
  type BuildProgress,
} from './build.js';
export {
  updateSnapshot,
  type UpdateSnapshotOptions,
  type UpdateSnapshotResult,
  type UpdateProgress,
  type FeedOutcome,
} from './update.js';
export { exportSnapshot, importSnapshot, verifySnapshot, type ExportManifest } from './export.js';
export { acquireDbLock, type DbLock } from './lock.js';
export { SNAPSHOT_APPLICATION_ID } from './schema.js';

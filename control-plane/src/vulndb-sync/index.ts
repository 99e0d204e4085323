/**
 * Central vulnerability-database sync: the snapshot directory the control plane serves from, the scheduled and
 * on-demand `db update` under a lock shared by every control plane, the air-gapped intake of dropped and
 * uploaded snapshots, and how a snapshot file is answered over HTTP.
 */
export { startDbSync, type DbSync, type DbSyncOptions, type DbSyncStatus } from './db-sync.js';
export { etagOf, planFileResponse, type FileRequestHeaders, type FileResponsePlan } from './http-file.js';
export {
  isVersion,
  SnapshotStore,
  type PublishedSnapshot,
  type SnapshotManifest,
  type SnapshotOrigin,
} from './snapshot-store.js';
export { advisoryLock, processLock, type HeldLock, type SyncLock } from './sync-lock.js';
export type { FeedAttempt, SyncAttempt, SyncError, SyncOutcome, SyncTrigger } from './sync-status.js';

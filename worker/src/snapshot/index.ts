/**
 * The worker's vulnerability-database snapshots: the pool jobs lease a snapshot from (a swap never changes the
 * snapshot of a running job), the follower that keeps the pool on the control plane's current snapshot, and the
 * verified HTTP download it uses.
 */
export { SnapshotFollower, type FollowerOptions, type SnapshotSource } from './follower.js';
export { SnapshotPool, type SnapshotLease } from './pool.js';
export {
  fetchCurrentSnapshot,
  fetchSnapshot,
  type DownloadOptions,
  type FetchedSnapshot,
} from './download.js';

/**
 * The analytics store (ClickHouse): `createAnalyticsStore` picks the driver (a ClickHouse server when a URL is
 * given, else embedded chdb) and returns the store; the composition root calls `migrate()` once at start-up.
 */
import { createChdbDriver } from './chdb-driver.js';
import { createHttpDriver } from './http-driver.js';
import { ClickHouseAnalyticsStore } from './store.js';

/** Options of {@link createAnalyticsStore}. */
export interface AnalyticsStoreOptions {
  /** `CLICKHOUSE_URL` (fleet): a ClickHouse server over HTTP(S). Takes precedence over `path`. */
  url?: string;
  /** chdb data directory (all-in-one); without `url` and `path`, a temporary directory removed on close. */
  path?: string;
  /** HTTP only: per-request timeout (default 30,000 ms). */
  requestTimeoutMillis?: number;
  /** Told of every insert the store makes once it succeeded: the table and the number of rows (metrics). */
  onInsert?: (table: string, rows: number) => void;
}

/**
 * Opens the analytics store. Rejects with CP_INVALID_ARGUMENT for a malformed URL and CP_ANALYTICS_UNAVAILABLE
 * when chdb cannot open the directory (chdb holds one data directory per process; stores on the same path share
 * it). A ClickHouse server is not contacted until the first call.
 */
export async function createAnalyticsStore(
  options: AnalyticsStoreOptions = {},
): Promise<ClickHouseAnalyticsStore> {
  const driver =
    options.url !== undefined
      ? await createHttpDriver({ url: options.url, requestTimeoutMillis: options.requestTimeoutMillis })
      : await createChdbDriver(options.path);
  const { onInsert } = options;
  if (!onInsert) return new ClickHouseAnalyticsStore(driver);
  return new ClickHouseAnalyticsStore({
    ...driver,
    async insert(table, rows) {
      await driver.insert(table, rows);
      if (rows.length > 0) onInsert(table, rows.length);
    },
  });
}

export { AttemptCounter, type AttemptCounts } from './attempt-counts.js';
export { createChdbDriver } from './chdb-driver.js';
export {
  diffAttempts,
  type NewFinding,
  type NewReason,
  type ResolvedFinding,
  type ResolvedReason,
  type ScanDiffPage,
  type ScanDiffQuery,
} from './diff.js';
export { classifyClickHouseError, type ClickHouseDriver, type QueryParams, type Row } from './driver.js';
export { createHttpDriver, parseClickHouseUrl, type HttpDriverOptions } from './http-driver.js';
export { migrateAnalytics, migrationChecksum, type AnalyticsMigrateResult } from './migrate.js';
export { ANALYTICS_MIGRATIONS, type AnalyticsMigration } from './migrations.js';
export {
  analyticsQueries,
  type AttemptRef,
  type BoundQuery,
  type FindingFilter,
  type FindingKey,
} from './queries.js';
export { ClickHouseAnalyticsStore, type PreparedAppend } from './store.js';
export type * from './types.js';
export {
  prng,
  seedAnalytics,
  syntheticPackage,
  syntheticUuid,
  type SeedOptions,
  type SeedResult,
} from './seed.js';

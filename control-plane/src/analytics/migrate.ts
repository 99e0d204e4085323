/**
 * Applies the numbered analytics migrations (migrations.ts) and records each in `schema_migrations` with a
 * checksum, like the Postgres runner (store/postgres/migrate.ts) but without transactions or locks, which
 * ClickHouse does not have: statements are idempotent, so concurrent or interrupted runs converge, and a
 * migration is recorded only after all its statements succeeded. Re-running is a no-op.
 */
import { createHash } from 'node:crypto';
import { ControlPlaneError, isControlPlaneError } from '../errors.js';
import type { ClickHouseDriver } from './driver.js';
import { ANALYTICS_MIGRATIONS, type AnalyticsMigration } from './migrations.js';

/** What {@link migrateAnalytics} did: versions applied by this call (ascending) and the version afterwards. */
export interface AnalyticsMigrateResult {
  applied: number[];
  current: number;
}

/**
 * Brings the schema up to date. Rejects with CP_ANALYTICS_ERROR when the list is malformed (numbers not 1, 2, 3…),
 * when an applied migration's checksum differs from the shipped one, or when a statement fails (earlier
 * migrations stay applied; the next run resumes); CP_ANALYTICS_UNAVAILABLE when ClickHouse cannot be reached.
 * Versions recorded but unknown here (a newer control plane migrated) are left alone.
 */
export async function migrateAnalytics(
  driver: ClickHouseDriver,
  migrations: readonly AnalyticsMigration[] = ANALYTICS_MIGRATIONS,
): Promise<AnalyticsMigrateResult> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new ControlPlaneError(
        'CP_ANALYTICS_ERROR',
        `analytics migration ${m.version} (${m.name}) found where ${i + 1} was expected: numbers must be unique and contiguous`,
      );
    }
  });
  await driver.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree ORDER BY version`);
  const recorded = new Map(
    (
      await driver.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM schema_migrations FINAL',
      )
    ).map((r) => [Number(r.version), r.checksum]),
  );

  const applied: number[] = [];
  for (const mig of migrations) {
    const checksum = migrationChecksum(mig);
    const stored = recorded.get(mig.version);
    if (stored !== undefined) {
      if (stored !== checksum) {
        throw new ControlPlaneError(
          'CP_ANALYTICS_ERROR',
          `analytics migration ${mig.version} (${mig.name}) was applied with another content (checksum ${stored}): never edit an applied migration, add a new one`,
        );
      }
      continue;
    }
    for (const statement of mig.statements) {
      try {
        await driver.exec(statement);
      } catch (err) {
        if (isControlPlaneError(err) && err.code === 'CP_ANALYTICS_UNAVAILABLE') throw err;
        throw new ControlPlaneError(
          'CP_ANALYTICS_ERROR',
          `analytics migration ${mig.version} (${mig.name}) failed: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
    }
    await driver.insert('schema_migrations', [{ version: mig.version, name: mig.name, checksum }]);
    applied.push(mig.version);
  }
  const versions = [...recorded.keys(), ...applied];
  return { applied, current: versions.length > 0 ? Math.max(...versions) : 0 };
}

/** sha256 (hex) of a migration's statements. */
export function migrationChecksum(migration: AnalyticsMigration): string {
  return createHash('sha256').update(JSON.stringify(migration.statements)).digest('hex');
}

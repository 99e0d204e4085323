import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createChdbDriver } from './chdb-driver.js';
import type { ClickHouseDriver } from './driver.js';
import { migrateAnalytics, migrationChecksum } from './migrate.js';
import { ANALYTICS_MIGRATIONS, type AnalyticsMigration } from './migrations.js';

let dir: string;
let driver: ClickHouseDriver;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-analytics-migrate-'));
  driver = await createChdbDriver(join(dir, 'chdb'));
});
afterAll(async () => {
  await driver.close();
  await rm(dir, { recursive: true, force: true });
});

const extra = (statements: string[]): AnalyticsMigration => ({ version: 2, name: 'extra', statements });

it('applies the shipped migrations once; a second run is a no-op', async () => {
  const first = await migrateAnalytics(driver);
  const second = await migrateAnalytics(driver);
  expect({
    first,
    second,
    recorded: await driver.query('SELECT version, name, checksum FROM schema_migrations FINAL'),
    tables: await driver.query(
      'SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    ),
  }).toEqual({
    first: { applied: [1], current: 1 },
    second: { applied: [], current: 1 },
    recorded: [{ version: 1, name: 'init', checksum: migrationChecksum(ANALYTICS_MIGRATIONS[0]!) }],
    tables: [
      { name: 'finding_ids', engine: 'ReplacingMergeTree' },
      { name: 'finding_ids_mv', engine: 'MaterializedView' },
      { name: 'findings', engine: 'MergeTree' },
      { name: 'image_latest', engine: 'ReplacingMergeTree' },
      { name: 'packages', engine: 'MergeTree' },
      { name: 'scan_summaries', engine: 'ReplacingMergeTree' },
      { name: 'schema_migrations', engine: 'ReplacingMergeTree' },
    ],
  });
});

it('a failing migration is not recorded; the next run resumes with it', async () => {
  const broken = extra([
    'CREATE TABLE IF NOT EXISTS extra_a (x UInt8) ENGINE = MergeTree ORDER BY x',
    'CREATE TABLE oops',
  ]);
  await expect(migrateAnalytics(driver, [...ANALYTICS_MIGRATIONS, broken])).rejects.toMatchObject({
    code: 'CP_ANALYTICS_ERROR',
    message: expect.stringMatching(/^analytics migration 2 \(extra\) failed: /),
  });
  const fixed = extra([
    'CREATE TABLE IF NOT EXISTS extra_a (x UInt8) ENGINE = MergeTree ORDER BY x',
    'CREATE TABLE IF NOT EXISTS extra_b (x UInt8) ENGINE = MergeTree ORDER BY x',
  ]);
  expect(await migrateAnalytics(driver, [...ANALYTICS_MIGRATIONS, fixed])).toEqual({
    applied: [2],
    current: 2,
  });
  // a control plane that knows only migration 1 leaves the newer one alone
  expect(await migrateAnalytics(driver)).toEqual({ applied: [], current: 2 });
});

it('an applied migration edited afterwards is refused', async () => {
  const edited = {
    ...ANALYTICS_MIGRATIONS[0]!,
    statements: [...ANALYTICS_MIGRATIONS[0]!.statements, 'SELECT 1'],
  };
  await expect(migrateAnalytics(driver, [edited])).rejects.toMatchObject({
    code: 'CP_ANALYTICS_ERROR',
    message: expect.stringContaining('analytics migration 1 (init) was applied with another content'),
  });
});

it('numbers must run 1, 2, 3…', async () => {
  await expect(migrateAnalytics(driver, [{ ...extra([]), version: 3 }])).rejects.toMatchObject({
    code: 'CP_ANALYTICS_ERROR',
    message: expect.stringContaining('found where 1 was expected'),
  });
});

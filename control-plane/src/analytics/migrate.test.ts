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

const NEXT = ANALYTICS_MIGRATIONS.length + 1;
const extra = (statements: string[]): AnalyticsMigration => ({ version: NEXT, name: 'extra', statements });

it('applies the shipped migrations once; a second run is a no-op; rows written before migrations 2-4 hold their own rows, without digests', async () => {
  // a store written by a control plane that knew only migration 1
  const v1 = await migrateAnalytics(driver, ANALYTICS_MIGRATIONS.slice(0, 1));
  await driver.insert('scan_summaries', [
    { org_id: 'o', scan_id: 's', attempt: 1, digest: 'd', completed_at: '2025-01-01 00:00:00.000', os: '' },
  ]);
  await driver.insert('image_latest', [
    {
      org_id: 'o',
      image_id: 'i',
      scan_id: 's',
      attempt: 1,
      digest: 'd',
      completed_at: '2025-01-01 00:00:00.000',
      os: '',
    },
  ]);
  const first = await migrateAnalytics(driver);
  const second = await migrateAnalytics(driver);
  const sources = 'scan_id, attempt, findings_scan_id, findings_attempt, packages_scan_id, packages_attempt';
  // rows written before migration 2 hold their own findings and inventory
  const ownSources = {
    scan_id: 's',
    attempt: 1,
    findings_scan_id: 's',
    findings_attempt: 1,
    packages_scan_id: 's',
    packages_attempt: 1,
  };
  expect({
    v1,
    first,
    second,
    held: {
      summaries: await driver.query(
        `SELECT ${sources}, packages_digest, findings_digest FROM scan_summaries FINAL`,
      ),
      latest: await driver.query(
        `SELECT ${sources}, packages_digest, findings_digest FROM image_latest FINAL`,
      ),
    },
    recorded: await driver.query(
      'SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version',
    ),
    tables: await driver.query(
      'SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    ),
  }).toEqual({
    v1: { applied: [1], current: 1 },
    first: { applied: [2, 3, 4], current: 4 },
    second: { applied: [], current: 4 },
    held: {
      summaries: [{ ...ownSources, packages_digest: '', findings_digest: '' }],
      latest: [{ ...ownSources, packages_digest: '', findings_digest: '' }],
    },
    recorded: [
      { version: 1, name: 'init', checksum: migrationChecksum(ANALYTICS_MIGRATIONS[0]!) },
      { version: 2, name: 'attempt-sources', checksum: migrationChecksum(ANALYTICS_MIGRATIONS[1]!) },
      { version: 3, name: 'content-digests', checksum: migrationChecksum(ANALYTICS_MIGRATIONS[2]!) },
      {
        version: 4,
        name: 'latest-content-digests',
        checksum: migrationChecksum(ANALYTICS_MIGRATIONS[3]!),
      },
    ],
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
    message: expect.stringMatching(new RegExp(`^analytics migration ${NEXT} \\(extra\\) failed: `)),
  });
  const fixed = extra([
    'CREATE TABLE IF NOT EXISTS extra_a (x UInt8) ENGINE = MergeTree ORDER BY x',
    'CREATE TABLE IF NOT EXISTS extra_b (x UInt8) ENGINE = MergeTree ORDER BY x',
  ]);
  expect(await migrateAnalytics(driver, [...ANALYTICS_MIGRATIONS, fixed])).toEqual({
    applied: [NEXT],
    current: NEXT,
  });
  // a control plane that knows only the shipped migrations leaves the newer one alone
  expect(await migrateAnalytics(driver)).toEqual({ applied: [], current: NEXT });
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
  await expect(migrateAnalytics(driver, [{ ...extra([]), version: NEXT + 1 }])).rejects.toMatchObject({
    code: 'CP_ANALYTICS_ERROR',
    message: expect.stringContaining('found where 1 was expected'),
  });
});

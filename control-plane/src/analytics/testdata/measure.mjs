/**
 * Measurement (not a test): seeds chdb with IMAGES × FINDINGS through the store, then times each read method
 * sequentially (p50/p95 over RUNS calls) next to the same SQL run directly on the driver.
 * Run after `npx tsc -b`:  node control-plane/src/analytics/testdata/measure.mjs [dir] [images] [findingsPerImage]
 * An existing directory is taken as seeded by an earlier run and only measured.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { analyticsQueries, createAnalyticsStore, seedAnalytics } from '../../../dist/analytics/index.js';

const dir = process.argv[2] ?? '/tmp/vigil-analytics-measure';
const images = Number(process.argv[3] ?? 10_000);
const findingsPerImage = Number(process.argv[4] ?? 500);
const RUNS = 40;
const ORG = 'bench-org';

const reuse = existsSync(dir);
const store = await createAnalyticsStore({ path: dir });
await store.migrate();
const t0 = performance.now();
const ids = reuse
  ? await idsOfSeededStore()
  : await seedAnalytics(store, {
      orgId: ORG,
      images,
      findingsPerImage,
      onProgress: (n) => n % 1000 === 0 && console.log(`seeded ${n} images, ${((performance.now() - t0) / 1000).toFixed(1)} s`),
    });
console.log(reuse ? `reused ${dir}` : `seed: ${((performance.now() - t0) / 1000).toFixed(1)} s for ${ids.findings} findings, ${ids.packages} packages`);
console.log('common', ids.common, 'rare', ids.rare, 'alias', ids.alias, 'load', loadavg().map((l) => l.toFixed(1)).join(' '));
console.log(
  await store.driver.query(
    'SELECT table, count() AS parts, sum(rows) AS rows, formatReadableSize(sum(data_compressed_bytes)) AS size FROM system.parts WHERE active GROUP BY table ORDER BY table',
  ),
);

/** The ids measure needs, read back from a store seeded by an earlier run. */
async function idsOfSeededStore() {
  const rows = await store.driver.query('SELECT image_id FROM image_latest FINAL WHERE org_id = {org:String} ORDER BY image_id', { org: ORG });
  const byImages = (having) =>
    store.driver.query(
      `SELECT vulnerability_id AS id, toUInt32(uniqExact(scan_id)) AS images FROM finding_ids WHERE org_id = {org:String}
       GROUP BY id ${having} ORDER BY images DESC, id LIMIT 1`,
      { org: ORG },
    );
  const [common] = await byImages('');
  const [rare] = await byImages('HAVING images BETWEEN 1 AND 5');
  const [alias] = await byImages("HAVING id LIKE 'GHSA-%' AND images >= 2");
  return {
    imageIds: rows.map((r) => r.image_id),
    common,
    rare: rare ?? null,
    alias: alias ? { alias: alias.id, images: alias.images } : null,
  };
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
async function time(label, fn) {
  for (let i = 0; i < 3; i++) await fn(i);
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    await fn(i);
    ms.push(performance.now() - s);
  }
  console.log(`${label.padEnd(44)} p50 ${pct(ms, 50).toFixed(1).padStart(7)} ms   p95 ${pct(ms, 95).toFixed(1).padStart(7)} ms`);
}
const direct = (q) => store.driver.query(q.sql, q.params);
const pick = (i) => ids.imageIds[(i * 7919) % ids.imageIds.length];
const fifty = (i) => Array.from({ length: 50 }, (_, k) => ids.imageIds[(i * 50 + k * 197) % ids.imageIds.length]);

await time('summary', () => store.summary(ORG));
await time('  same SQL directly', () => direct(analyticsQueries.summary(ORG)));
await time('summary of 1,000 image ids', (i) => store.summary(ORG, { imageIds: ids.imageIds.slice(i, i + 1000) }));
await time('imageSummaries(50 ids)', (i) => store.imageSummaries(ORG, fifty(i)));
await time('  same SQL directly', (i) => direct(analyticsQueries.imageSummaries(ORG, fifty(i))));
await time('listImageSummaries(severity, 50)', () => store.listImageSummaries(ORG));
await time('  same SQL directly', () =>
  direct(analyticsQueries.listImageSummaries(ORG, { sort: 'severity', order: 'desc', limit: 51 })),
);
await time('imageFindings(limit 100)', (i) => store.imageFindings(ORG, pick(i), { limit: 100 }));
await time('  same SQL directly', (i) => direct(analyticsQueries.imageFindings(ORG, pick(i), { limit: 101 })));
await time('imageFindings(HIGH+, fixable, text "pkg1")', (i) =>
  store.imageFindings(ORG, pick(i), { minSeverity: 'HIGH', fixable: true, text: 'pkg1', limit: 100 }),
);
const page1 = await store.imageFindings(ORG, pick(0), { limit: 100 });
await time('imageFindings page 2 (cursor)', () => store.imageFindings(ORG, pick(0), { limit: 100, cursor: page1.nextCursor }));
await time(`vulnerableImages(common, ${ids.common.images} images, 50)`, () => store.vulnerableImages(ORG, ids.common.id));
await time('  same SQL directly (both statements)', async () => {
  const page = await direct(analyticsQueries.vulnerableImagePage(ORG, ids.common.id, { limit: 51 }));
  const attempts = page.map((r) => ({ scanId: r.scan_id, attempt: Number(r.attempt) }));
  await direct(analyticsQueries.attemptFindingsOf(ORG, attempts, ids.common.id));
});
if (ids.rare) await time(`vulnerableImages(rare, ${ids.rare.images} images)`, () => store.vulnerableImages(ORG, ids.rare.id));
if (ids.alias) await time(`vulnerableImages(by alias, ${ids.alias.images} images)`, () => store.vulnerableImages(ORG, ids.alias.alias));
const c50 = async (label, fn) => {
  const s = performance.now();
  const lat = await Promise.all(Array.from({ length: 50 }, async (_, i) => { const t = performance.now(); await fn(i); return performance.now() - t; }));
  console.log(`${label.padEnd(44)} wall ${(performance.now() - s).toFixed(0)} ms, per-call p95 ${pct(lat, 95).toFixed(0)} ms`);
};
await c50('50 concurrent summary', () => store.summary(ORG));
await c50('50 concurrent imageFindings', (i) => store.imageFindings(ORG, pick(i)));
await c50('50 concurrent vulnerableImages(common)', () => store.vulnerableImages(ORG, ids.common.id));
const one = await seedAnalytics(store, { orgId: 'bench-publish', images: 1, findingsPerImage: 0, vulnerabilities: 10 });
const fresh = (await store.imageFindings(ORG, pick(1), { limit: 500 })).findings;
const p0 = performance.now();
await store.appendFindings('bench-publish', 'publish-scan', 1, fresh);
const p1 = performance.now();
await store.publishScan('bench-publish', {
  scanId: 'publish-scan', attempt: 1, digest: 'sha256:publish', imageIds: one.imageIds, completedAt: new Date(), os: null,
});
console.log(`appendFindings(500): ${(p1 - p0).toFixed(0)} ms, publishScan: ${(performance.now() - p1).toFixed(0)} ms`);
await store.close();

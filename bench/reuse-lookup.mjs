/**
 * The content-addressing lookup a completion runs (analytics/queries.ts `reusableRows`, over `image_latest`), against
 * the org's summary history: its chdb CPU per lookup at 2,000 to 500,000 published summaries (10,000 images, one
 * digest each), next to the statement it replaced, which filtered `scan_summaries` by digest (not in its key) and so
 * read every summary of the org. Both run on the real schema (analytics migrations) in a scratch chdb directory;
 * both must name the same holder. Results: docs/performance.md, Platform, session of 2026-11-28 06:54.
 *
 * `node bench/reuse-lookup.mjs [--images N] [--summaries N,N…]` (not part of run.mjs: a supporting measurement, no target).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { controlPlane } from './platform.mjs';

const option = (name, dflt) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : dflt;
};
const IMAGES = Number(option('--images', '10000'));
const LOOKUPS = 100;
const SIZES = option('--summaries', '2000,20000,100000,500000').split(',').map(Number);

const { createAnalyticsStore } = await controlPlane('analytics/index.js');
const { analyticsQueries: q } = await controlPlane('analytics/queries.js');

const newest = (kind, order) =>
  `if(countIf(${kind}_digest = {${kind}Digest:String}) = 0, '',
    argMaxIf(concat(toString(${kind}_attempt), ':', ${kind}_scan_id), ${order},
      ${kind}_digest = {${kind}Digest:String})) AS ${kind}_from`;

/** The statement before 2026-11-28: `scan_summaries` filtered by digest, which is not in its key. */
function byDigest(orgId, digest, packagesDigest, findingsDigest) {
  const order = '(published_at, scan_id, attempt)';
  return {
    sql: `SELECT ${newest('packages', order)}, ${newest('findings', order)}
      FROM scan_summaries
      WHERE org_id = {org:String} AND digest = {digest:String}
        AND (packages_digest = {packagesDigest:String} OR findings_digest = {findingsDigest:String})`,
    params: { org: orgId, digest, packagesDigest, findingsDigest },
  };
}

const scanId = (i) => `scan-${i.toString(36).padStart(6, '0')}`;
const digestOf = (i) => `sha256:${(i % IMAGES).toString(16).padStart(64, '0')}`;

async function measure(summaries) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-reuse-lookup-'));
  const store = await createAnalyticsStore({ path: dir });
  try {
    await store.migrate();
    const { driver } = store;
    for (let from = 0; from < summaries; from += 50_000) {
      const rows = [];
      for (let i = from; i < Math.min(summaries, from + 50_000); i++) {
        rows.push({
          org_id: 'org',
          scan_id: scanId(i),
          attempt: 1,
          digest: digestOf(i),
          completed_at: '2026-11-28 00:00:00.000',
          os: '',
          packages_digest: `p-${i % IMAGES}`,
          findings_digest: `f-${i}`,
        });
      }
      await driver.insert('scan_summaries', rows);
    }
    // each image's latest scan: the last of its digest
    const latest = [];
    for (let image = 0; image < IMAGES; image++) {
      const last = image + IMAGES * Math.floor((summaries - 1 - image) / IMAGES);
      if (last < 0 || last >= summaries) continue;
      latest.push({
        org_id: 'org',
        image_id: `image-${image}`,
        scan_id: scanId(last),
        attempt: 1,
        digest: digestOf(image),
        completed_at: '2026-11-28 00:00:00.000',
        os: '',
        packages_digest: `p-${image}`,
        findings_digest: `f-${last}`,
      });
    }
    await driver.insert('image_latest', latest);
    await driver.exec('OPTIMIZE TABLE scan_summaries FINAL');
    await driver.exec('OPTIMIZE TABLE image_latest FINAL');
    const out = {};
    for (const [name, statement] of [
      ['byDigest', byDigest],
      ['imageLatest', q.reusableRows],
      ['byDigest', byDigest],
      ['imageLatest', q.reusableRows],
    ]) {
      let answer = null;
      const cpu = process.cpuUsage();
      const t = performance.now();
      for (let k = 0; k < LOOKUPS; k++) {
        const image = (k * 7919) % Math.min(IMAGES, summaries);
        const { sql, params } = statement('org', digestOf(image), `p-${image}`, 'f-none');
        [answer] = await driver.query(sql, params);
      }
      const used = process.cpuUsage(cpu);
      const result = {
        cpuMs: (used.user + used.system) / 1000 / LOOKUPS,
        wallMs: (performance.now() - t) / LOOKUPS,
        holder: answer.packages_from,
      };
      // the lower of the two rounds
      if (!out[name] || result.cpuMs < out[name].cpuMs) out[name] = result;
    }
    if (out.byDigest.holder !== out.imageLatest.holder) {
      throw new Error(`the statements disagree: ${out.byDigest.holder} against ${out.imageLatest.holder}`);
    }
    return out;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const summaries of SIZES) {
  const r = await measure(summaries);
  process.stdout.write(
    `${summaries} summaries, ${IMAGES} images: by digest ${r.byDigest.cpuMs.toFixed(1)} ms CPU ` +
      `(${r.byDigest.wallMs.toFixed(1)} ms wall), image_latest ${r.imageLatest.cpuMs.toFixed(1)} ms CPU ` +
      `(${r.imageLatest.wallMs.toFixed(1)} ms wall) a lookup; holder ${r.imageLatest.holder}\n`,
  );
}

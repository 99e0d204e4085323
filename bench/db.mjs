/**
 * Vulnerability database benchmarks (issue #3), on the synthetic feed set of db-feeds.mjs (real
 * scale, native formats: 300k NVD CVEs in API 2.0 pages, 200k OSV advisories in per-ecosystem
 * all.zip files, a Debian tracker document with 50k CVEs, Alpine secdb files; ≈1.8M affected rows):
 * - D1 `buildSnapshot({from, out})` in a child process (db-build.mjs) under /usr/bin/time: wall
 *   time, file size, peak RSS ≤ 1 GiB; the per-source affected counts must add up to the rows the
 *   generator wrote, with no file unrecognised or skipped (a fast build that dropped data fails).
 * - D2 point lookups by (namespace, package) against that snapshot in a child process
 *   (db-lookup.mjs): `reader.affected(keys)` with 400 keys a call (a scan's packages), 20 % of the
 *   keys known to some feed (several rows each), the rest unknown; ≥ 200,000 lookups/s, reported
 *   with the ratio to a plain in-memory Map of the same keys → the same AffectedPackage objects,
 *   measured in the same process, batches and order.
 * D2 reuses D1's snapshot when it exists (bench/.work/db-d1-s<schema>.db), else builds it first.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { dbFeeds } from './db-feeds.mjs';
import { WORK } from './fixtures.mjs';
import { fmtMiB, fmtSeconds, runChild } from './measure.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const log = (msg) => process.stderr.write(`[bench D] ${msg}\n`);
const GiB_KiB = 1024 * 1024;
const num = (n) => Math.round(n).toLocaleString('en-US');

async function snapshotPath() {
  const { SNAPSHOT_SCHEMA_VERSION } = await import('@vigil/engine');
  return join(WORK, `db-d1-s${SNAPSHOT_SCHEMA_VERSION}.db`);
}

/** Builds the snapshot in a child process; returns its figures and the child's wall time / RSS. */
async function build(feeds, out) {
  rmSync(out, { force: true });
  const stdoutFile = join(WORK, 'd1-build.json');
  const child = await runChild(process.execPath, [join(BENCH, 'db-build.mjs'), feeds.dir, out], {
    stdoutFile,
    workDir: WORK,
  });
  const result = JSON.parse(readFileSync(stdoutFile, 'utf8'));
  const affected = result.sources.reduce((n, s) => n + s.counts.affected, 0);
  log(
    `build ${fmtSeconds(result.buildMs)} (child ${fmtSeconds(child.ms)}), peak RSS ${child.maxRssKiB === null ? '?' : fmtMiB(child.maxRssKiB)}, ${(result.bytes / 2 ** 20).toFixed(0)} MiB file, ${num(affected)} affected rows (${result.sources.map((s) => `${s.name} ${num(s.counts.vulnerabilities)}/${num(s.counts.affected)}`).join(', ')})`,
  );
  return { child, result, affected };
}

export async function benchD1() {
  const feeds = await dbFeeds({ log });
  const out = await snapshotPath();
  const { child, result, affected } = await build(feeds, out);
  if (child.maxRssKiB === null) throw new Error('D1 needs /usr/bin/time (apt-get install time)');
  const complete = affected === feeds.expectedAffected && result.unrecognized === 0 && result.skipped === 0;
  return [
    {
      bench: `D1 snapshot build (${(feeds.bytes / 2 ** 30).toFixed(2)} GiB of feeds, ${num(feeds.expectedAffected)} affected rows)`,
      floor: '—',
      measured: `${fmtSeconds(result.buildMs)}${child.cpuMs === null ? '' : `, cpu ${fmtSeconds(child.cpuMs)}`}; file ${(result.bytes / 2 ** 20).toFixed(0)} MiB${complete ? '' : `; ROWS ${num(affected)} ≠ ${num(feeds.expectedAffected)} or files unrecognised/skipped`}`,
      value: `${fmtMiB(child.maxRssKiB)} peak RSS`,
      target: '≤ 1 GiB RSS, streaming',
      pass: child.maxRssKiB <= GiB_KiB && complete,
      raw: { feeds, child, result, affected },
    },
  ];
}

export async function benchD2({ runs = 5 } = {}) {
  const feeds = await dbFeeds({ log });
  const db = await snapshotPath();
  if (!existsSync(db)) {
    log(`no snapshot at ${db}: building it first (untimed)`);
    await build(feeds, db);
  }
  const stdoutFile = join(WORK, 'd2-lookup.json');
  await runChild(
    process.execPath,
    [join(BENCH, 'db-lookup.mjs'), db, feeds.keysFile, '--rounds', String(Math.max(runs, 5))],
    { stdoutFile, workDir: WORK },
  );
  const r = JSON.parse(readFileSync(stdoutFile, 'utf8'));
  log(
    `lookups: snapshot ${r.snapshotMs.map((ms) => ms.toFixed(0)).join(', ')} ms, Map ${r.mapMs.map((ms) => ms.toFixed(1)).join(', ')} ms per ${num(r.lookups)} keys; open ${r.openMs.toFixed(1)} ms; ${(statSync(db).size / 2 ** 20).toFixed(0)} MiB file`,
  );
  return [
    {
      bench: `D2 point lookups (${r.batchSize} keys a call, ${(100 * r.hitShare).toFixed(0)} % hits, ${r.rowsPerHit.toFixed(1)} rows a hit)`,
      floor: `Map ${num(r.mapPerS)}/s`,
      measured: `${num(r.snapshotPerS)}/s (${num(r.rowsPerPass)} rows per ${num(r.lookups)} keys)`,
      value: `${num(r.snapshotPerS)}/s = ${r.ratio.toFixed(3)}× Map`,
      target: '≥ 200,000/s',
      pass: r.snapshotPerS >= 200_000,
      raw: r,
    },
  ];
}

/**
 * R1: rematch of 10,000 stored inventories of ≈300 packages each (issue #6 item 3), against the engine's matching
 * floor for the same packages measured in the same run.
 *
 * - Inventories: 10,000 images over 2,000 distinct inventories (`--distinct N`), as images built on shared bases
 *   and rebuilt from the same sources repeat theirs: each inventory is 60 Debian 12 packages of one of 20 bases
 *   plus 240 language packages of its own (match-fixture.mjs name pools and version spaces, the `typical` M1
 *   profile), 300 in all; 3M packages over the 10,000 images.
 * - Floor: `matchInventory` of every image's inventory, one after the other (3M packages; no deduplication), in
 *   this process, on the full-scale synthetic snapshot of M1 (match-fixture.mjs).
 * - Measured: the rematch pipeline with real parts: a scratch Postgres database (migrated, 10,000 images), chdb in
 *   a temp dir holding the images' stored scans (packages, findings from the floor run with 1 % of them left out so
 *   the rematch finds something, published to image_latest), the JetStream dispatcher on the shared NATS server (a
 *   stream of its own), WorkerService over gRPC (createServices + the grpc adapter, in this process) and one
 *   `vigil worker` process on the same snapshot. Timed from `rematch.start()` until every batch is completed
 *   (GET /db/rematch/{id}'s counts, polled every 100 ms); checked: 10,000 completed rematch scans, no failed batch.
 * - Floor and measured alternate; best of N (default 1: a floor run matches 3M packages). Target: ≤ 2×.
 *
 * `node bench/r1-rematch.mjs [--runs N] [--images N] [--distinct N]` runs it alone; run.mjs calls `benchR1`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WORK } from './fixtures.mjs';
import { POOLS, debVersion, langVersion, matchSnapshot, poolName, prng } from './match-fixture.mjs';
import { fmtSeconds } from './measure.mjs';
import {
  CLI,
  NATS_URL,
  PG_ADMIN_URL,
  controlPlane,
  deleteStream,
  loadNow,
  processCpuSeconds,
  seedBenchImages,
} from './platform.mjs';

const SELF = fileURLToPath(import.meta.url);
const NOW = new Date('2026-11-27T00:00:00Z');
const LANGS = ['npm', 'pypi', 'maven', 'golang', 'gem', 'cargo', 'composer', 'nuget'];
const BASES = 20;
const log = (msg) => process.stderr.write(`[bench R1] ${msg}\n`);
const int = (rand, n) => Math.floor(rand() * n);

/** The Debian part of base `b`: 60 packages, 85 % at the release's current version (M1 `typical`). */
function basePackages(b) {
  const rand = prng(1000 + b);
  const out = [];
  for (let i = 0; i < 60; i++) {
    const src = poolName('deb', int(rand, POOLS.deb));
    const version = rand() < 0.85 ? `9.${int(rand, 5)}.0-1+deb12u${int(rand, 3)}` : debVersion(rand);
    out.push({ name: `${src}-bin${i % 3}`, version, ecosystem: 'deb', srcName: src, srcVersion: version });
  }
  return out;
}

/** Inventory `d`: its base's packages plus 240 language packages of its own. */
function inventory(d, bases) {
  const rand = prng(50_000 + d);
  const packages = [...bases[d % BASES]];
  for (let i = 0; i < 240; i++) {
    const eco = LANGS[i % LANGS.length];
    const name = rand() < 0.1 ? poolName(eco, int(rand, POOLS[eco])) : `${eco}-app-${d}-${i}`;
    const v = rand() < 0.7 ? `7.${int(rand, 20)}.${int(rand, 30)}` : langVersion(rand);
    packages.push({ name, version: eco === 'golang' ? `v${v}` : v, ecosystem: eco, path: `app/${eco}/${i}` });
  }
  return packages;
}

const scanOf = (packages) => ({
  artifact: { name: 'bench-r1', kind: 'rootfs' },
  os: { family: 'debian', version: '12.5' },
  packages,
  unknowns: [],
  status: 'succeeded',
  startedAt: NOW.toISOString(),
  finishedAt: NOW.toISOString(),
});

async function admin(sql) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `vigil worker` on the snapshot; resolves once it logged `worker start`. */
function startWorker(env) {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const started = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out = (out + d).slice(-20_000);
      if (out.includes('"worker start"')) resolve();
    });
    child.stderr.on('data', (d) => (out = (out + d).slice(-20_000)));
    child.on('exit', (code) => reject(new Error(`vigil worker exited ${code}: ${out}`)));
  });
  return { child, started, output: () => out };
}

/** R1 rows for run.mjs. */
export async function benchR1({ runs = 1, images = 10_000, distinct = 2_000, batchSize } = {}) {
  const engine = await import('@vigil/engine');
  const snapshot = await matchSnapshot(engine, WORK, log);
  const reader = engine.SnapshotReader.open(snapshot.path);
  const version = reader.meta().version;
  const bases = Array.from({ length: BASES }, (_, b) => basePackages(b));
  const inventories = Array.from({ length: distinct }, (_, d) => inventory(d, bases));
  const packageCount = Array.from({ length: images }, (_, i) => inventories[i % distinct].length).reduce(
    (a, b) => a + b,
    0,
  );
  log(
    `${images} images over ${distinct} distinct inventories, ${packageCount} packages; snapshot ${version}`,
  );

  /** The floor: every image's inventory matched in this process. Keeps each distinct inventory's findings. */
  let findingsOf = null;
  const floors = [];
  const runFloor = () => {
    const keep = findingsOf === null ? [] : null;
    const cpu = process.cpuUsage();
    const t = performance.now();
    let findings = 0;
    for (let i = 0; i < images; i++) {
      const result = engine.matchInventory(scanOf(inventories[i % distinct]), reader, { now: NOW });
      findings += result.findings.length;
      if (keep && i < distinct) keep.push(result.findings);
    }
    const ms = performance.now() - t;
    const c = process.cpuUsage(cpu);
    if (keep) findingsOf = keep;
    floors.push({ ms, cpuMs: (c.user + c.system) / 1000, findings });
    log(`floor: matchInventory × ${images}: ${fmtSeconds(ms)}, ${findings} findings`);
  };

  // (the worker and every module are loaded before the floor runs: see below)
  const { createPgDatabase, migrate, pgStores } = await controlPlane('store/postgres/index.js');
  const { createAnalyticsStore } = await controlPlane('analytics/index.js');
  const { createServices, registryResolver } = await controlPlane('services/index.js');
  const { connectQueue } = await controlPlane('queue/jetstream/connect.js');
  const { createJetStreamDispatcher } = await controlPlane('queue/jetstream/dispatcher.js');
  const { addService } = await controlPlane('grpc/adapter.js');
  const { createRematch } = await controlPlane('rematch/service.js');
  const { WorkerService } = await import('@vigil/proto/v1/worker_pb');
  const grpc = await import('@grpc/grpc-js');

  const id = randomBytes(4).toString('hex');
  const dbName = `vigil_bench_r1_${id}`;
  const names = { stream: `BENCH_R1_${id}`, subjectPrefix: `bench.r1.${id}` };
  const chdbDir = mkdtempSync(join(tmpdir(), 'vigil-r1-chdb-'));
  const workerDir = mkdtempSync(join(tmpdir(), 'vigil-r1-worker-'));
  await admin(`CREATE DATABASE ${dbName}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  const db = createPgDatabase({ connectionString: url.toString() });
  let analytics;
  let nc;
  let server;
  let worker;
  let rematch;
  const measured = [];
  let phaseSums = {};
  try {
    await migrate(db);
    const stores = pgStores(db);
    analytics = await createAnalyticsStore({ path: chdbDir });
    await analytics.migrate();
    const org = await stores.orgs.createOrg({ slug: `bench-r1-${id}`, name: 'Bench R1' });
    nc = await connectQueue({ servers: NATS_URL, name: 'bench-r1' });
    const dispatcher = createJetStreamDispatcher({ connection: nc, ...names });
    await dispatcher.setup();
    rematch = createRematch({
      db,
      analytics,
      dispatcher,
      dbVersion: () => version,
      ...(batchSize ? { batchSize } : {}),
      logger: {
        debug() {},
        info: (fields, msg) => {
          if (
            msg === 'rematch batch completed' ||
            msg === 'rematch batch claimed' ||
            msg === 'rematch started'
          ) {
            const sums = (phaseSums[msg] ??= { n: 0 });
            sums.n += 1;
            for (const [k, v] of Object.entries(fields))
              if (k.endsWith('Ms') || k === 'ms') sums[k] = (sums[k] ?? 0) + v;
          }
        },
        warn: (fields, msg) => log(`warn: ${msg} ${JSON.stringify(fields)}`),
        error: (fields, msg) => log(`error: ${msg} ${JSON.stringify(fields)}`),
      },
    });
    const workerToken = randomBytes(24).toString('base64url');
    const services = createServices({
      stores,
      analytics,
      dispatcher,
      dbVersion: () => version,
      resolver: registryResolver({}),
      workerToken,
      rematch: () => rematch,
    });
    server = new grpc.Server({
      'grpc.max_receive_message_length': 16 * 2 ** 20,
      'grpc.max_send_message_length': 16 * 2 ** 20,
    });
    addService(server, WorkerService, services.workerService);
    const port = await new Promise((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    worker = startWorker({
      NATS_URL,
      VIGIL_NATS_STREAM: names.stream,
      VIGIL_NATS_SUBJECT_PREFIX: names.subjectPrefix,
      VIGIL_DB: snapshot.path,
      VIGIL_WORKER_TOKEN: workerToken,
      VIGIL_CONTROL_PLANE: `127.0.0.1:${port}`,
      VIGIL_WORKER_CONCURRENCY: '1',
      VIGIL_LAYER_CACHE: 'local',
      VIGIL_DATA_DIR: workerDir,
      VIGIL_LOG_LEVEL: 'info',
    });
    await worker.started;
    // everything this run executes is loaded now (the worker above, the control plane's modules): the shared
    // checkout's builds during the minutes below cannot mix two versions into one run
    runFloor();
    const seedStarted = performance.now();
    await seedBenchImages(db, { orgId: org.id, bench: 'r1', tag: id, count: images });
    const { rows: imageRows } = await db.query(
      'SELECT id, digest FROM images WHERE org_id = $1 ORDER BY digest',
      [org.id],
    );
    // the stored scans: inventories, findings (1 % left out: found by the rematch), published
    const CHUNK = 500;
    for (let i = 0; i < imageRows.length; i += CHUNK) {
      const part = imageRows.slice(i, i + CHUNK).map((image, j) => {
        const d = (i + j) % distinct;
        return {
          scanId: `00000000-0000-4000-8000-${String(i + j).padStart(12, '0')}`,
          image,
          packages: inventories[d],
          findings: findingsOf[d].filter((_, k) => k % 100 !== 1),
        };
      });
      await analytics.appendBatch(
        org.id,
        part.map((p) => ({ scanId: p.scanId, attempt: 1, packages: p.packages, findings: p.findings })),
      );
      await analytics.publishScans(
        org.id,
        part.map((p) => ({
          scanId: p.scanId,
          attempt: 1,
          digest: p.image.digest,
          imageIds: [p.image.id],
          completedAt: new Date(NOW.getTime() + i + 1),
          os: { family: 'debian', version: '12.5' },
        })),
      );
    }
    log(`seeded ${images} stored scans in ${fmtSeconds(performance.now() - seedStarted)}`);

    const runMeasured = async (r) => {
      phaseSums = {};
      const cpu = process.cpuUsage();
      const workerCpu = processCpuSeconds(worker.child.pid);
      const t = performance.now();
      const run = await rematch.start('api', version);
      let status;
      for (;;) {
        status = await rematch.runStatus(run.id);
        if (status.counts.completed + status.counts.failed === status.batches) break;
        await sleep(100);
      }
      const ms = performance.now() - t;
      const c = process.cpuUsage(cpu);
      const { rows } = await db.query(
        `SELECT count(*)::int AS scans,
           (SELECT count(*)::int FROM rematch_changes ch JOIN scans s ON s.id = ch.scan_id
             WHERE s.db_version = $2 AND s.kind = 'rematch' AND s.created_at >= $3) AS changes
         FROM scans WHERE org_id = $1 AND kind = 'rematch' AND created_at >= $3`,
        [org.id, version, new Date(Date.now() - ms - 1_000)],
      );
      const result = {
        ms,
        cpuMs: (c.user + c.system) / 1000,
        workerCpuMs: (processCpuSeconds(worker.child.pid) - workerCpu) * 1000,
        batches: status.batches,
        failed: status.counts.failed,
        scans: rows[0].scans,
        changes: rows[0].changes,
        phases: phaseSums,
      };
      measured.push(result);
      log(
        `round ${r + 1}: rematch of ${status.images} images in ${status.batches} batches: ${fmtSeconds(ms)} ` +
          `(control plane cpu ${fmtSeconds(result.cpuMs)}, worker cpu ${fmtSeconds(result.workerCpuMs)}), ` +
          `${result.scans} scans, ${result.changes} changes, ${result.failed} failed batches (load ${await loadNow()}); ` +
          `control plane phases summed: ${JSON.stringify(phaseSums)}`,
      );
    };
    for (let r = 0; r < runs; r++) {
      if (r > 0 && r % 2 === 1) runFloor();
      await runMeasured(r);
      if (r > 0 && r % 2 === 0) runFloor();
    }
  } finally {
    worker?.child.kill('SIGTERM');
    await rematch?.close();
    server?.forceShutdown();
    await nc?.close().catch(() => undefined);
    await deleteStream(names.stream).catch(() => undefined);
    await analytics?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    rmSync(chdbDir, { recursive: true, force: true });
    rmSync(workerDir, { recursive: true, force: true });
    reader.close?.();
  }
  const best = (all) => all.reduce((a, b) => (b.ms < a.ms ? b : a));
  const floor = best(floors);
  const rem = best(measured);
  const ratio = rem.ms / floor.ms;
  const ok = rem.failed === 0 && rem.scans === images;
  return [
    {
      bench: `R1 rematch of ${images} stored inventories (${packageCount / images} packages, ${distinct} distinct)`,
      floor: `matchInventory × ${images} ${fmtSeconds(floor.ms)}, cpu ${fmtSeconds(floor.cpuMs)}`,
      measured: `${fmtSeconds(rem.ms)} (cpu: control plane ${fmtSeconds(rem.cpuMs)}, worker ${fmtSeconds(rem.workerCpuMs)}; ${rem.batches} batches, ${rem.scans} scans, ${rem.changes} changes)`,
      value: `${ratio.toFixed(2)}×`,
      target: '≤ 2×',
      pass: ok && ratio <= 2,
      raw: { floors, measured, ratio, images, distinct, packages: packageCount },
    },
  ];
}

if (process.argv[1] === SELF) {
  const arg = (name, def) => {
    const at = process.argv.indexOf(name);
    return at >= 0 ? Number(process.argv[at + 1]) : def;
  };
  const rows = await benchR1({
    runs: arg('--runs', 1),
    images: arg('--images', 10_000),
    distinct: arg('--distinct', 2_000),
    batchSize: arg('--batch', undefined),
  });
  for (const r of rows)
    process.stdout.write(
      `| ${r.bench} | ${r.floor} | ${r.measured} | ${r.value} | ${r.target} | ${r.pass ? 'yes' : 'NO'} |\n`,
    );
  process.exit(rows.every((r) => r.pass) ? 0 : 1);
}

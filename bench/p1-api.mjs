/**
 * P1: the REST API at scale (issue #5, ARCHITECTURE.md §6). 10,000 images and 5,000,000 findings
 * (control-plane/src/analytics/seed.ts into chdb; the images, their completed scans and latest-scan
 * summary columns into Postgres), `vigil control-plane` (the built CLI, its REST gateway on loopback,
 * chdb in its data dir) and 50 concurrent HTTP clients (undici, a bearer token), one route at a time:
 * GET /summary, GET /images?sort=severity, GET /images/{id} and GET /images/{id}/findings (the image
 * page: the image and the first page of its findings), GET /vulnerabilities/{id}/images.
 *
 * Floor: the same SQL run directly with the same concurrency, in a child process that has the same
 * stores open: the statements each route's QueryService call issues are recorded once (through
 * recording wrappers of the Postgres database and the ClickHouse driver), then replayed per request
 * on a raw `pg` pool (the server's size, 10) and on the chdb driver, in the same order. Target: p95
 * ≤ 1.5× per route, zero errors. Floor and API rounds alternate; best p95 of each. For the
 * analysis, the floor also times each route with the bearer-token statement the API runs first, and
 * both sides record CPU per request (clients, Postgres backends, and the control plane).
 *
 * The seeded chdb directory and Postgres database are cached (benchCache(): /var/cache/vigil-bench)
 * under version stamps of the seed shape, the built seeder and both schemas; a rerun reuses them.
 * `node bench/p1-api.mjs [--runs N]` runs it alone; run.mjs calls `benchP1`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { WORK } from './fixtures.mjs';
import {
  benchCache,
  buildVulnDb,
  closedLoop,
  controlPlane,
  controlPlaneCpuSeconds,
  postgresCpu,
  postgresCpuDelta,
  deleteStream,
  fmtMs,
  importTs,
  jsonChild,
  loadNow,
  NATS_URL,
  PG_ADMIN_URL,
  readJson,
  ROOT,
  stamp,
} from './platform.mjs';

const SELF = fileURLToPath(import.meta.url);
/** VIGIL_BENCH_P1_IMAGES: fewer images for a quick trial of the bench itself (the target needs 10,000). */
const SHAPE = { images: Number(process.env.VIGIL_BENCH_P1_IMAGES ?? 10_000), findingsPerImage: 500, seed: 1 };
/** Bump when what the seeding below writes changes. */
const SEED_GEN = 1;
const ORG = { id: '5eed0000-0000-4000-a000-00000000b001', slug: 'bench-p1' };
const REPOSITORIES = 50;
const CLIENTS = 50;
/** VIGIL_BENCH_P1_PER_CLIENT: more requests per client (longer rounds, for profiling). */
const PER_CLIENT = Number(process.env.VIGIL_BENCH_P1_PER_CLIENT ?? 10);
/** VIGIL_BENCH_P1_ROUTES=<regex>: only the routes whose name matches (for profiling one route). */
const ONLY = process.env.VIGIL_BENCH_P1_ROUTES ? new RegExp(process.env.VIGIL_BENCH_P1_ROUTES) : null;
const POOL_SIZE = 10; // createPgDatabase's default, which the control plane uses
const log = (msg) => process.stderr.write(`[bench P1] ${msg}\n`);

/** Where this seed lives, named by version stamps of the seed and of both schemas. */
async function layout() {
  const { loadMigrations } = await controlPlane('store/postgres/index.js');
  const seeder = readFileSync(join(ROOT, 'control-plane', 'dist', 'analytics', 'seed.js'), 'utf8');
  // Not the analytics migrations: they are append-only (migrate.ts rejects an edited one), so a
  // cached seed is brought up to date by store.migrate() below instead of reseeding for 30 minutes.
  const chStamp = stamp({ SHAPE, SEED_GEN, seeder });
  const pgStamp = stamp({ chStamp, pg: (await loadMigrations()).map((m) => m.checksum), REPOSITORIES });
  const cache = benchCache();
  const dir = join(cache, `p1-${chStamp}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/vigil_bench_p1_${pgStamp}`;
  return {
    cache,
    dir,
    dataDir: join(dir, 'data'),
    chdbDir: join(dir, 'data', 'clickhouse'),
    seedFile: join(dir, 'seed.json'),
    dbName: `vigil_bench_p1_${pgStamp}`,
    dbUrl: url.toString(),
  };
}

async function admin(fn) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * 20 vulnerability ids (or aliases) whose image counts are spread log-uniformly from the most
 * common one down to 1 (the seeder's long tail would otherwise make nearly every pick a one-image
 * CVE), most common first.
 */
async function pickVulnerabilities(driver) {
  const rows = await driver.query(
    `SELECT vulnerability_id AS id, toUInt32(uniqExact(scan_id)) AS images FROM finding_ids
     WHERE org_id = {org:String} GROUP BY id ORDER BY images DESC, id`,
    { org: ORG.id },
  );
  const top = Number(rows[0].images);
  const picked = new Set();
  return Array.from({ length: 20 }, (_, k) => {
    const level = Math.log(top) * (1 - k / 19);
    let best = null;
    for (const r of rows) {
      const d = Math.abs(Math.log(Number(r.images)) - level);
      if (!picked.has(r.id) && (best === null || d < best.d)) best = { d, r };
    }
    picked.add(best.r.id);
    return { id: best.r.id, images: Number(best.r.images) };
  });
}

/** chdb: seeds, merges parts, records what the runs need. Returns the seed record. */
async function seedAnalyticsDir(l, store) {
  const { seedAnalytics } = await controlPlane('analytics/seed.js');
  const started = performance.now();
  const result = await seedAnalytics(store, {
    orgId: ORG.id,
    ...SHAPE,
    imagesPerBatch: 50,
    onProgress: (n) =>
      n % 1000 === 0 && log(`seeded ${n} images, ${((performance.now() - started) / 1000).toFixed(0)} s`),
  });
  const seedMs = performance.now() - started;
  // merged parts, as a long-running server has them: every run then reads the same layout
  const merging = performance.now();
  for (const table of ['findings', 'finding_ids', 'packages', 'scan_summaries', 'image_latest']) {
    await store.driver.exec(`OPTIMIZE TABLE ${table} FINAL`);
  }
  const optimizeMs = performance.now() - merging;
  const parts = await store.driver.query(
    `SELECT table, toUInt32(count()) AS parts, toUInt64(sum(rows)) AS rows,
       formatReadableSize(sum(data_compressed_bytes)) AS size
     FROM system.parts WHERE active GROUP BY table ORDER BY table`,
  );
  return {
    seededAt: new Date().toISOString(),
    seedMs,
    optimizeMs,
    load: await loadNow(),
    findings: result.findings,
    packages: result.packages,
    parts,
    imageIds: result.imageIds.filter((_, i) => i % 50 === 0), // 200, spread over the sorted ids
  };
}

/** Postgres: org, repositories, images with their latest-scan summaries, completed scans (from chdb). */
async function seedPostgres(l, driver) {
  const { createPgDatabase, migrate } = await controlPlane('store/postgres/index.js');
  const { rows: stale } = await admin((c) =>
    c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'vigil_bench_p1_%'`),
  );
  for (const { datname } of stale) {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`));
  }
  await admin((c) => c.query(`CREATE DATABASE ${l.dbName}`));
  const db = createPgDatabase({ connectionString: l.dbUrl, statementTimeoutMillis: 600_000 });
  try {
    await migrate(db);
    const latest = await driver.query(
      `SELECT image_id, scan_id, digest, toString(completed_at) AS completed_at, os,
         critical, high, medium, low, unknown, fixable, packages
       FROM image_latest FINAL WHERE org_id = {org:String} ORDER BY image_id`,
      { org: ORG.id },
    );
    const col = (f) => latest.map(f);
    const at = col((r) => `${String(r.completed_at).replace(' ', 'T')}Z`);
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO orgs (id, slug, name) VALUES ($1, $2, 'Bench P1')`, [ORG.id, ORG.slug]);
      const { rows: repos } = await tx.query(
        `INSERT INTO repositories (org_id, name)
         SELECT $1, 'registry.bench/team-' || g || '/app' FROM generate_series(0, $2 - 1) g
         RETURNING id, name`,
        [ORG.id, REPOSITORIES],
      );
      const repoOf = (i) => repos[i % repos.length];
      await tx.query(
        `INSERT INTO images (id, org_id, repository_id, name, digest, tags, last_completed_at, summary_attempt,
           critical, high, medium, low, unknown, total, fixable, packages, os)
         SELECT t.id, $1, t.repo, t.name, t.digest, ARRAY[t.tag], t.at, 1, t.c, t.h, t.m, t.l, t.u,
           t.c + t.h + t.m + t.l + t.u, t.f, t.p, t.os
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
           $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::int[], $14::int[], $15::jsonb[])
           AS t(id, repo, name, digest, tag, at, c, h, m, l, u, f, p, os)`,
        [
          ORG.id,
          col((r) => r.image_id),
          latest.map((_, i) => repoOf(i).id),
          latest.map((_, i) => repoOf(i).name),
          col((r) => r.digest),
          latest.map((_, i) => `v${i}`),
          at,
          ...['critical', 'high', 'medium', 'low', 'unknown', 'fixable', 'packages'].map((k) =>
            col((r) => Number(r[k])),
          ),
          col((r) => (r.os ? String(r.os) : null)),
        ],
      );
      await tx.query(
        `INSERT INTO scans (id, org_id, image_id, digest, status, priority, attempt, db_version, created_at,
           started_at, finished_at, updated_at, published_at, report_attempt)
         SELECT t.id, $1, t.image, t.digest, 'completed', 'scheduled', 1, 'bench-p1', t.at - interval '1 minute',
           t.at - interval '1 minute', t.at, t.at, t.at - interval '1 minute', 1
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[]) AS t(id, image, digest, at)`,
        [ORG.id, col((r) => r.scan_id), col((r) => r.image_id), col((r) => r.digest), at],
      );
      await tx.query(
        `UPDATE images i SET last_completed_scan_id = s.id FROM scans s
         WHERE i.org_id = $1 AND s.org_id = i.org_id AND s.image_id = i.id`,
        [ORG.id],
      );
      await tx.query('CREATE TABLE vigil_bench_seed (done boolean NOT NULL)');
      await tx.query('INSERT INTO vigil_bench_seed VALUES (true)');
    });
    await db.exec('VACUUM ANALYZE');
    return latest.length;
  } finally {
    await db.close();
  }
}

async function postgresSeeded(l) {
  const exists = await admin((c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [l.dbName]));
  if (exists.rowCount === 0) return false;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: l.dbUrl });
  await client.connect();
  try {
    return (
      (await client.query('SELECT done FROM vigil_bench_seed').catch(() => ({ rowCount: 0 }))).rowCount > 0
    );
  } finally {
    await client.end();
  }
}

/** Child: makes sure chdb and Postgres hold the seed; prints the seed record and the vulnerabilities. */
async function seedChild() {
  const l = await layout();
  let info = readJson(l.seedFile);
  const reused = info !== null;
  const { createAnalyticsStore } = await controlPlane('analytics/index.js');
  if (!info) {
    for (const name of readdirSync(l.cache)) {
      if (name.startsWith('p1-')) rmSync(join(l.cache, name), { recursive: true, force: true });
    }
    mkdirSync(l.chdbDir, { recursive: true });
  }
  const store = await createAnalyticsStore({ path: l.chdbDir });
  try {
    await store.migrate(); // a reused seed gets migrations added since it was seeded
    if (!info) {
      log(`seeding ${SHAPE.images} images × ${SHAPE.findingsPerImage} findings into ${l.chdbDir}`);
      info = await seedAnalyticsDir(l, store);
      writeFileSync(l.seedFile, `${JSON.stringify(info, null, 2)}\n`);
    }
    const t = performance.now();
    if (!(await postgresSeeded(l))) {
      const images = await seedPostgres(l, store.driver);
      log(
        `postgres ${l.dbName}: ${images} images and scans in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    }
    const pgSeedMs = performance.now() - t;
    const vulnerabilities = await pickVulnerabilities(store.driver);
    process.stdout.write(`${JSON.stringify({ ...info, vulnerabilities, reused, pgSeedMs })}\n`);
  } finally {
    await store.close();
  }
}

/** The routes (those VIGIL_BENCH_P1_ROUTES picks): what the client requests and the QueryService call behind it. */
function routes(info) {
  return allRoutes(info).filter((r) => !ONLY || ONLY.test(r.name));
}

function allRoutes(info) {
  return [
    { name: 'GET /summary', args: [null], path: () => '/api/v1/summary', call: (q) => q.summary(ORG.id, {}) },
    {
      name: 'GET /images?sort=severity',
      args: [null],
      path: () => '/api/v1/images?sort=severity',
      call: (q) => q.listImages(ORG.id, { sort: 'severity' }),
    },
    {
      name: 'GET /images/{id}',
      args: info.imageIds,
      path: (id) => `/api/v1/images/${id}`,
      call: (q, id) => q.getImage(ORG.id, id),
    },
    {
      // the image page's second call: the findings of its latest completed scan (first page)
      name: 'GET /images/{id}/findings',
      args: info.imageIds,
      path: (id) => `/api/v1/images/${id}/findings`,
      call: (q, id) => q.imageFindings(ORG.id, id, {}),
    },
    {
      name: 'GET /vulnerabilities/{id}/images',
      args: info.vulnerabilities.map((v) => v.id),
      path: (id) => `/api/v1/vulnerabilities/${encodeURIComponent(id)}/images`,
      call: (q, id) => q.vulnerableImages(ORG.id, id, {}),
    },
  ];
}

const cpuMs = (usage) => (usage.user + usage.system) / 1000;

/**
 * `drive(fn)` plus the CPU time per request it cost: this process (the clients), the Postgres
 * backends of the database (those that lived through the run), and the control plane when
 * `serverUrl` is given.
 */
async function metered(fn, { dbUrl, serverUrl }) {
  const requests = CLIENTS * (PER_CLIENT + 1);
  const serverCpu = async () => (serverUrl ? controlPlaneCpuSeconds(serverUrl) : 0);
  const before = { pg: await postgresCpu(dbUrl), server: await serverCpu(), self: process.cpuUsage() };
  const stats = await drive(fn);
  const client = cpuMs(process.cpuUsage(before.self)) / requests;
  const postgres = (postgresCpuDelta(before.pg, await postgresCpu(dbUrl)) * 1000) / requests;
  const server = (((await serverCpu()) - before.server) * 1000) / requests;
  return { ...stats, cpu: { server, client, postgres } };
}

const fmtCpu = (c) =>
  `${c.server ? `server ${c.server.toFixed(1)} + ` : ''}client ${c.client.toFixed(1)} + postgres ${c.postgres.toFixed(1)} ms`;

/** Warm-up (one call per client), then the timed closed loop. */
async function drive(call) {
  await closedLoop(CLIENTS, 1, call);
  return closedLoop(CLIENTS, PER_CLIENT, call);
}

/** Child: the floor, each route's recorded statements replayed directly, 50 at a time. */
async function floorChild(paramsFile) {
  const l = await layout();
  const info = readJson(paramsFile);
  const { default: pg } = await import('pg');
  const { createAnalyticsStore, ClickHouseAnalyticsStore } = await controlPlane('analytics/index.js');
  const { createQueryService } = await controlPlane('services/queries.js');
  const { pgDatabase, pgImageStore } = await controlPlane('store/postgres/index.js');
  const pool = new pg.Pool({ connectionString: l.dbUrl, max: POOL_SIZE });
  const store = await createAnalyticsStore({ path: l.chdbDir });
  try {
    let recorded = null;
    const db = pgDatabase(pool);
    const recordingDb = {
      ...db,
      query: (text, values) => (recorded?.push({ pg: text, values }), db.query(text, values)),
    };
    const driver = store.driver;
    const recordingDriver = {
      ...driver,
      query: (sql, params) => (recorded?.push({ ch: sql, params }), driver.query(sql, params)),
    };
    const queries = createQueryService({
      images: pgImageStore(recordingDb),
      analytics: new ClickHouseAnalyticsStore(recordingDriver),
      snapshot: () => null,
      dbVersion: () => 'bench-p1',
    });
    // the statement a bearer token costs the API on every request (informational second floor)
    const { createAuth, pgSessionStore } = await controlPlane('auth/index.js');
    const { pgAuditStore, pgOrgStore } = await controlPlane('store/postgres/index.js');
    const auth = createAuth({
      orgs: pgOrgStore(recordingDb),
      audit: pgAuditStore(db),
      sessions: pgSessionStore(db),
    });
    recorded = [];
    await auth.authenticateToken(process.env.VIGIL_BENCH_P1_TOKEN);
    const authStatements = recorded;
    recorded = null;
    const run = async (list) => {
      for (const s of list) {
        if (s.pg !== undefined) await pool.query(s.pg, s.values);
        else await driver.query(s.ch, s.params);
      }
    };
    const out = {};
    for (const route of routes(info)) {
      const statements = [];
      const answers = [];
      for (const arg of route.args) {
        recorded = [];
        answers.push(await route.call(queries, arg));
        statements.push(recorded);
        recorded = null;
      }
      const stats = await metered((k) => run(statements[k % statements.length]), { dbUrl: l.dbUrl });
      const withAuth = await drive(async (k) => {
        await run(authStatements);
        await run(statements[k % statements.length]);
      });
      out[route.name] = {
        ...stats,
        withAuth,
        statements: statements[0].map((s) => (s.pg !== undefined ? 'pg' : 'chdb')).join('+'),
        sample: sampleOf(answers[0]),
      };
      log(
        `floor ${route.name}: p50 ${fmtMs(stats.p50)}, p95 ${fmtMs(stats.p95)} (${out[route.name].statements}); ` +
          `with the token statement p95 ${fmtMs(withAuth.p95)}; CPU per request: ${fmtCpu(stats.cpu)}`,
      );
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await pool.end();
    await store.close();
  }
}

/** A few numbers of an answer, to show the API and the floor saw the same data. */
function sampleOf(body) {
  if (!body || typeof body !== 'object') return body;
  if ('scannedImages' in body) return { images: body.images, critical: body.counts.critical };
  if ('scanId' in body) {
    const findings = body.items ?? body.findings; // the API's page, or the QueryService's
    return { scanId: body.scanId, findings: findings.length, first: findings[0]?.id };
  }
  if ('items' in body)
    return { items: body.items.length, first: body.items[0]?.image?.id ?? body.items[0]?.id };
  return { id: body.id, critical: body.summary?.counts?.critical };
}

/** One API round: start `vigil control-plane` on the seeded stores, drive every route, stop it. */
async function apiRound(l, info, token, env) {
  const { ControlPlaneProcess, freePort } = await importTs(
    'test/harness/fleet-processes.ts',
    'test/harness/process.ts',
  );
  const { Pool } = await import('undici');
  const server = new ControlPlaneProcess(env, { http: await freePort(), grpc: await freePort() });
  const t = performance.now();
  await server.start();
  log(`control plane ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const client = new Pool(server.url, { connections: CLIENTS });
  try {
    const out = {};
    for (const route of routes(info)) {
      let sample;
      const request = async (k) => {
        const res = await client.request({
          method: 'GET',
          path: route.path(route.args[k % route.args.length]),
          headers: { authorization: `Bearer ${token}` },
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
        if (k === 0) sample = sampleOf(JSON.parse(text));
      };
      const stats = await metered(request, { dbUrl: env.DATABASE_URL, serverUrl: server.url });
      out[route.name] = { ...stats, sample };
      log(
        `API ${route.name}: p50 ${fmtMs(stats.p50)}, p95 ${fmtMs(stats.p95)}, errors ${stats.errors}; ` +
          `CPU per request: ${fmtCpu(stats.cpu)}`,
      );
    }
    // info: the HTTP hop alone (no credentials, no statement), what every route pays above its SQL
    const hop = await metered(
      async () => {
        const res = await client.request({ method: 'GET', path: '/healthz' });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      },
      { dbUrl: env.DATABASE_URL, serverUrl: server.url },
    );
    out[HOP] = hop;
    log(`API ${HOP}: p50 ${fmtMs(hop.p50)}, p95 ${fmtMs(hop.p95)}; CPU per request: ${fmtCpu(hop.cpu)}`);
    return out;
  } finally {
    await client.close();
    const code = await server.stop();
    if (code !== 0) log(`control plane exited ${code}: ${server.output().slice(-2000)}`);
  }
}

/** A read-scope API token of the bench org (a new one per run). */
async function createToken(l) {
  const { createPgDatabase, pgOrgStore } = await controlPlane('store/postgres/index.js');
  const { generateApiToken } = await controlPlane('store/credentials.js');
  const db = createPgDatabase({ connectionString: l.dbUrl });
  try {
    const { token, hash, prefix } = generateApiToken();
    await db.query(`DELETE FROM api_tokens WHERE org_id = $1`, [ORG.id]);
    await pgOrgStore(db).createToken(ORG.id, { name: 'bench-p1', scopes: ['read'], hash, prefix });
    return token;
  } finally {
    await db.close();
  }
}

/** The info route of apiRound: the HTTP hop without credentials or SQL. */
const HOP = 'GET /healthz';
const lowestP95 = (stats) => stats.reduce((a, b) => (b.p95 < a.p95 ? b : a));

/** P1 rows for run.mjs. */
export async function benchP1({ runs = 3 } = {}) {
  const l = await layout();
  const t = performance.now();
  const info = await jsonChild(SELF, ['--child', 'seed'], { label: 'P1 seed' });
  const prepareMs = performance.now() - t;
  log(
    info.reused
      ? `seed reused from ${l.dir} (seeded ${info.seededAt} in ${(info.seedMs / 1000).toFixed(0)} s)`
      : `seeded in ${(info.seedMs / 1000).toFixed(0)} s + merge ${(info.optimizeMs / 1000).toFixed(0)} s + postgres ${(info.pgSeedMs / 1000).toFixed(0)} s`,
  );
  const token = await createToken(l);
  mkdirSync(WORK, { recursive: true });
  const tmp = mkdtempSync(join(WORK, 'p1-'));
  const id = randomBytes(4).toString('hex');
  const env = {
    DATABASE_URL: l.dbUrl,
    NATS_URL,
    VIGIL_NATS_STREAM: `BENCH_P1_${id}`,
    VIGIL_NATS_SUBJECT_PREFIX: `bench.p1${id}`,
    VIGIL_DB: await buildVulnDb(join(tmp, 'vigil.db')),
    VIGIL_DATA_DIR: l.dataDir,
    VIGIL_WORKER_TOKEN: randomBytes(24).toString('base64url'),
    VIGIL_HOST: '127.0.0.1',
    VIGIL_LOG_LEVEL: 'warn',
    // VIGIL_BENCH_P1_CPU_PROF=<dir>: the control plane writes a V8 CPU profile there when it stops
    // (bench/cpu-prof-preload.mjs; summarise with bench/cpuprofile-top.mjs)
    ...(process.env.VIGIL_BENCH_P1_CPU_PROF
      ? {
          NODE_OPTIONS: `--import ${join(ROOT, 'bench', 'cpu-prof-preload.mjs')}`,
          VIGIL_CPU_PROF_DIR: process.env.VIGIL_BENCH_P1_CPU_PROF,
        }
      : {}),
  };
  const paramsFile = join(tmp, 'params.json');
  writeFileSync(
    paramsFile,
    JSON.stringify({ imageIds: info.imageIds, vulnerabilities: info.vulnerabilities }),
  );
  const floors = [];
  const apis = [];
  try {
    for (let r = 0; r < runs; r++) {
      log(`round ${r + 1}/${runs}: floor (load ${await loadNow()})`);
      floors.push(
        await jsonChild(SELF, ['--child', 'floor', paramsFile], {
          label: 'P1 floor',
          env: { VIGIL_BENCH_P1_TOKEN: token },
        }),
      );
      log(`round ${r + 1}/${runs}: API (load ${await loadNow()})`);
      apis.push(await apiRound(l, info, token, env));
    }
  } finally {
    await deleteStream(env.VIGIL_NATS_STREAM).catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
  const rows = routes(info).map((route) => {
    const floor = lowestP95(floors.map((f) => f[route.name]));
    const api = lowestP95(apis.map((a) => a[route.name]));
    const withAuth = lowestP95(floors.map((f) => f[route.name].withAuth));
    const errors = apis.reduce((n, a) => n + a[route.name].errors, 0);
    const ratio = api.p95 / floor.p95;
    return {
      bench: `P1 ${route.name} (50 clients)`,
      floor:
        `SQL (${floor.statements}) p95 ${fmtMs(floor.p95)}, p50 ${fmtMs(floor.p50)}; ` +
        `+ token statement p95 ${fmtMs(withAuth.p95)}`,
      measured:
        `p95 ${fmtMs(api.p95)}, p50 ${fmtMs(api.p50)}, ${api.perSecond.toFixed(0)} req/s, ${errors} errors; ` +
        `CPU/request: ${fmtCpu(api.cpu)} (floor: ${fmtCpu(floor.cpu)})`,
      value: `${ratio.toFixed(2)}×`,
      target: '≤ 1.5×, 0 errors',
      pass: ratio <= 1.5 && errors === 0,
      raw: { floors: floors.map((f) => f[route.name]), apis: apis.map((a) => a[route.name]) },
    };
  });
  const hop = lowestP95(apis.map((a) => a[HOP]));
  rows.push({
    bench: `P1 ${HOP}: the HTTP hop alone, no credentials, no SQL (info)`,
    floor: '—',
    measured: `p95 ${fmtMs(hop.p95)}, p50 ${fmtMs(hop.p50)}, ${hop.perSecond.toFixed(0)} req/s; CPU/request: ${fmtCpu(hop.cpu)}`,
    value: `p95 ${fmtMs(hop.p95)}`,
    target: 'info',
    pass: true,
    raw: { apis: apis.map((a) => a[HOP]) },
  });
  rows.push({
    bench: 'P1 seed (info)',
    floor: '—',
    measured: info.reused
      ? `reused (seeded ${info.seededAt.slice(0, 10)} in ${(info.seedMs / 1000).toFixed(0)} s)`
      : `chdb ${(info.seedMs / 1000).toFixed(0)} s + merge ${(info.optimizeMs / 1000).toFixed(0)} s + pg ${(info.pgSeedMs / 1000).toFixed(0)} s`,
    value: `${info.findings.toLocaleString('en')} findings`,
    target: 'info',
    pass: true,
    raw: { ...info, prepareMs, imageIds: undefined },
  });
  return rows;
}

const argv = process.argv.slice(2);
if (process.argv[1] === SELF) {
  const child = argv[argv.indexOf('--child') + 1];
  if (argv.includes('--child')) {
    await (child === 'seed' ? seedChild() : floorChild(argv[argv.indexOf('--child') + 2]));
  } else {
    const runsAt = argv.indexOf('--runs');
    for (const row of await benchP1({ runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : 3 })) {
      process.stdout.write(
        `| ${row.bench} | ${row.floor} | ${row.measured} | ${row.value} | ${row.target} | ${row.pass ? 'yes' : 'NO'} |\n`,
      );
    }
  }
}

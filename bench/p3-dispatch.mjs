/**
 * P3: dispatch of a 10,000-image bulk rescan (issue #5, ARCHITECTURE.md §6). Measured:
 * `ScanService.bulkScan` (createServices over `pg` stores on a scratch Postgres database and the
 * JetStream dispatcher on the shared NATS server), from the call to its return, when every job is
 * stored in the stream (PubAck) and recorded in the outbox; the stream's message count is checked
 * after each run. Floor: a raw JetStream publish (`js.publish` with the scan id as message id, the
 * dispatcher's 256 publishes in flight) of 10,000 job payloads of the same size (the same jobs the
 * batch will publish, encoded beforehand) into a fresh stream of the same configuration. Each round
 * gets a new organisation with 10,000 images and new streams; floor and measured alternate which
 * goes first; best of N each. Target: ≤ 2×.
 *
 * Each phase also reports the CPU it cost: this process (control plane and NATS client), the local nats-server
 * and the Postgres backends of the bench database (/proc). `VIGIL_BENCH_P3_TIMELINE=1` prints when each page
 * read, dispatcher.publish and outbox mark ran; `VIGIL_BENCH_P3_CHUNK=<n>` sets createServices'
 * dispatch.chunkSize (scans per page, publish and mark; default 1,000).
 *
 * `node bench/p3-dispatch.mjs [--runs N]` runs it alone; run.mjs calls `benchP3`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  controlPlane as builtControlPlane,
  deleteStream,
  fmtMs,
  loadNow,
  NATS_URL,
  PG_ADMIN_URL,
  postgresCpu,
  postgresCpuDelta,
  processCpuSeconds,
  seedBenchImages,
} from './platform.mjs';

// VIGIL_BENCH_P3_CP_DIST=<dir>: import the control plane from another build of control-plane/dist (an A/B
// against an earlier publisher; the directory must sit inside the checkout so node_modules resolve)
const controlPlane = (rel) =>
  process.env.VIGIL_BENCH_P3_CP_DIST
    ? import(pathToFileURL(join(process.env.VIGIL_BENCH_P3_CP_DIST, rel)).href)
    : builtControlPlane(rel);

const SELF = fileURLToPath(import.meta.url);
const IMAGES = 10_000;
const IN_FLIGHT = 256; // the dispatcher's default maxInFlight
const log = (msg) => process.stderr.write(`[bench P3 ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

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

/** A new organisation with IMAGES images in 10 repositories; returns its id and the images. */
async function seedOrg(db, stores, tag) {
  const org = await stores.orgs.createOrg({ slug: `bench-p3-${tag}`, name: 'Bench P3' });
  await seedBenchImages(db, { orgId: org.id, bench: 'p3', tag, count: IMAGES });
  await db.exec('ANALYZE images');
  const { rows } = await db.query('SELECT id, name, digest FROM images WHERE org_id = $1', [org.id]);
  return { orgId: org.id, images: rows };
}

/** The pid of the local nats-server (its CPU is counted per phase), or null when it is not on this machine. */
function natsServerPid() {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nats-server') return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/**
 * CPU seconds spent while `fn` runs: this process (the control plane's code and the NATS client), the local
 * nats-server, and the Postgres backends of the bench database (`pgUrl`).
 */
async function withCpu(pgUrl, natsPid, fn) {
  const self0 = process.cpuUsage();
  const nats0 = natsPid ? processCpuSeconds(natsPid) : NaN;
  const pg0 = await postgresCpu(pgUrl);
  const result = await fn();
  const self1 = process.cpuUsage(self0);
  const nats1 = natsPid ? processCpuSeconds(natsPid) : NaN;
  const pg1 = await postgresCpu(pgUrl);
  return {
    result,
    cpu: {
      selfMs: Math.round((self1.user + self1.system) / 1000),
      natsMs: Math.round((nats1 - nats0) * 1000),
      pgMs: Math.round(postgresCpuDelta(pg0, pg1) * 1000),
    },
  };
}

const fmtCpu = (c) => `CPU: process ${c.selfMs} ms, nats-server ${c.natsMs} ms, postgres ${c.pgMs} ms`;

/** The floor: raw publishes of `payloads` into `subject`, IN_FLIGHT at a time; resolves with the time. */
async function rawPublish(js, subject, payloads) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < payloads.length) {
        const { id, data } = payloads[next++];
        await js.publish(subject, data, { msgID: id, timeout: 5_000 });
      }
    }),
  );
  return performance.now() - started;
}

/** P3 rows for run.mjs. */
export async function benchP3({ runs = 3 } = {}) {
  const { createPgDatabase, migrate, pgStores } = await controlPlane('store/postgres/index.js');
  const { createAnalyticsStore } = await controlPlane('analytics/index.js');
  const { createServices, registryResolver } = await controlPlane('services/index.js');
  const { connectQueue } = await controlPlane('queue/jetstream/connect.js');
  const { createJetStreamDispatcher } = await controlPlane('queue/jetstream/dispatcher.js');
  const { jobSubject, queueNames } = await controlPlane('queue/names.js');
  const { encodeScanJob } = await controlPlane('queue/wire.js');
  const { toJob } = await controlPlane('dispatch/publisher.js');
  // the outbox's own condition (a batch mark since migration 0007; before it, published_at alone)
  const unpublishedSql =
    (await controlPlane('store/postgres/scan-outbox.js')).UNPUBLISHED_SCAN ??
    "s.status = 'queued' AND s.published_at IS NULL";
  const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');

  const id = randomBytes(4).toString('hex');
  const dbName = `vigil_bench_p3_${id}`;
  await admin(`CREATE DATABASE ${dbName}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  const db = createPgDatabase({ connectionString: url.toString() });
  const streams = [];
  let nc;
  let analytics;
  const measured = [];
  const floors = [];
  try {
    await migrate(db);
    const stores = pgStores(db);
    analytics = await createAnalyticsStore(); // untouched by bulkScan; createServices needs one
    nc = await connectQueue({ servers: NATS_URL, name: 'bench-p3' });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const resolver = registryResolver({});
    const natsPid = natsServerPid();
    for (let r = 0; r < runs; r++) {
      const tag = `${id}-${r}`;
      const { orgId, images } = await seedOrg(db, stores, tag);
      const names = { stream: `BENCH_P3_${tag}`, subjectPrefix: `bench.p3.${tag}` };
      const floorNames = { stream: `BENCH_P3F_${tag}`, subjectPrefix: `bench.p3f.${tag}` };
      streams.push(names.stream, floorNames.stream);
      const dispatcher = createJetStreamDispatcher({ connection: nc, ...names });
      await dispatcher.setup();
      await createJetStreamDispatcher({ connection: nc, ...floorNames }).setup();
      // the jobs this batch will publish (new scan ids), encoded before the floor is timed
      const payloads = images.map((image) => {
        const job = toJob(
          {
            id: randomUUID(),
            orgId,
            imageId: image.id,
            repository: image.name,
            digest: image.digest,
            dbVersion: 'bench-p3',
            priority: 'scheduled',
            createdAt: new Date(),
          },
          resolver.jobReference,
        );
        return { id: job.scanId, data: encodeScanJob(job) };
      });
      const phases = {};
      // time spent inside the three steps of the publish phase (summed over the chunks)
      const steps = { pageMs: 0, publishMs: 0, markMs: 0 };
      // VIGIL_BENCH_P3_TIMELINE=1: each step's start and end, printed after the run
      const timeline = [];
      const timed =
        (key, fn) =>
        async (...args) => {
          const t = performance.now();
          try {
            return await fn(...args);
          } finally {
            steps[key] += performance.now() - t;
            timeline.push([key, t, performance.now()]);
          }
        };
      const services = createServices({
        stores: {
          ...stores,
          scans: { ...stores.scans, listQueuedScans: timed('pageMs', stores.scans.listQueuedScans) },
          outbox: {
            ...stores.outbox,
            markPublished: timed('markMs', stores.outbox.markPublished),
            ...(stores.outbox.markBatchPublished
              ? { markBatchPublished: timed('markMs', stores.outbox.markBatchPublished) }
              : {}),
          },
        },
        analytics,
        ...(process.env.VIGIL_BENCH_P3_CHUNK
          ? { dispatch: { chunkSize: Number(process.env.VIGIL_BENCH_P3_CHUNK) } }
          : {}),
        dispatcher: Object.assign(Object.create(dispatcher), {
          publish: timed('publishMs', (jobs) => dispatcher.publish(jobs)),
        }),
        dbVersion: () => 'bench-p3',
        resolver,
        workerToken: randomBytes(24).toString('base64url'),
        logger: {
          debug() {},
          info: (fields) => Object.assign(phases, fields),
          warn: (fields, msg) => log(`warn: ${msg} ${JSON.stringify(fields)}`),
          error: (fields, msg) => log(`error: ${msg} ${JSON.stringify(fields)}`),
        },
      });
      const runFloor = async () => {
        const { result: ms, cpu } = await withCpu(url.toString(), natsPid, () =>
          rawPublish(js, jobSubject(queueNames(floorNames), 'scheduled'), payloads),
        );
        const stored = (await jsm.streams.info(floorNames.stream)).state.messages;
        floors.push({ ms, stored, bytes: payloads[0].data.length, cpu });
        log(
          `round ${r + 1}: raw publish of ${stored} messages (${payloads[0].data.length} B each): ${fmtMs(ms)} ` +
            `(${fmtCpu(cpu)})`,
        );
      };
      const runMeasured = async () => {
        let ms = 0;
        const { result: batch, cpu } = await withCpu(url.toString(), natsPid, async () => {
          const started = performance.now();
          const created = await services.scans.bulkScan(
            orgId,
            { filter: {}, priority: 'scheduled' },
            { type: 'system', id: null },
          );
          ms = performance.now() - started;
          if (process.env.VIGIL_BENCH_P3_TIMELINE) {
            log(
              'timeline (ms from the call): ' +
                timeline
                  .map(
                    ([k, a, b]) =>
                      `${k.replace('Ms', '')} ${(a - started).toFixed(0)}-${(b - started).toFixed(0)}`,
                  )
                  .join(', '),
            );
          }
          return created;
        });
        const stored = (await jsm.streams.info(names.stream)).state.messages;
        const { rows } = await db.query(
          `SELECT count(*)::int AS n FROM scans s WHERE s.org_id = $1 AND ${unpublishedSql}`,
          [orgId],
        );
        measured.push({
          ms,
          stored,
          total: batch.total,
          unpublished: rows[0].n,
          insertMs: phases.insertMs,
          publishMs: phases.publishMs,
          steps: { ...steps },
          cpu,
        });
        log(
          `round ${r + 1}: bulkScan of ${batch.total} images: ${fmtMs(ms)} (insert ${phases.insertMs} ms, ` +
            `publish ${phases.publishMs} ms: dispatcher.publish ${steps.publishMs.toFixed(0)} ms, outbox marks ` +
            `${steps.markMs.toFixed(0)} ms, pages ${steps.pageMs.toFixed(0)} ms), stored ${stored}, ` +
            `unpublished ${rows[0].n} (${fmtCpu(cpu)}; load ${await loadNow()})`,
        );
      };
      if (r % 2 === 0) {
        await runFloor();
        await runMeasured();
      } else {
        await runMeasured();
        await runFloor();
      }
      await dispatcher.close();
      for (const stream of [names.stream, floorNames.stream]) await jsm.streams.delete(stream);
    }
  } finally {
    await nc?.close();
    await analytics?.close();
    await db.close();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    for (const stream of streams) await deleteStream(stream).catch(() => undefined);
  }
  const fastest = (all) => all.reduce((a, b) => (b.ms < a.ms ? b : a));
  const floor = fastest(floors);
  const bulk = fastest(measured);
  const complete = measured.every((m) => m.stored === IMAGES && m.total === IMAGES && m.unpublished === 0);
  const ratio = bulk.ms / floor.ms;
  return [
    {
      bench: 'P3 bulk rescan dispatch, 10,000 images',
      floor: `raw JetStream publish ${fmtMs(floor.ms)} (${floor.bytes} B a message; ${fmtCpu(floor.cpu)})`,
      measured:
        `${fmtMs(bulk.ms)} (insert ${bulk.insertMs} ms, publish ${bulk.publishMs} ms: dispatcher ` +
        `${bulk.steps.publishMs.toFixed(0)} ms + outbox marks ${bulk.steps.markMs.toFixed(0)} ms; ${fmtCpu(bulk.cpu)})` +
        `${complete ? '' : ' (jobs missing!)'}`,
      value: `${ratio.toFixed(2)}×`,
      target: '≤ 2×',
      pass: ratio <= 2 && complete,
      raw: { floors, measured, ratio },
    },
  ];
}

if (process.argv[1] === SELF) {
  const argv = process.argv.slice(2);
  const runsAt = argv.indexOf('--runs');
  for (const row of await benchP3({ runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : 3 })) {
    process.stdout.write(
      `| ${row.bench} | ${row.floor} | ${row.measured} | ${row.value} | ${row.target} | ${row.pass ? 'yes' : 'NO'} |\n`,
    );
  }
}

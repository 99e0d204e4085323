/**
 * P2: fleet throughput with 1, 2 and 4 workers (issue #5, ARCHITECTURE.md §6), every part a real
 * process: the fleet harness (test/harness/fleet.ts) starts a scratch Postgres database, a local
 * docker-registry behind a pass-through proxy holding small distinct images (an Alpine base layer
 * from realdata plus one tiny layer each), a vulnerability database built from the realdata feeds,
 * a JetStream stream of its own on the shared NATS server and `vigil control-plane` (chdb in its
 * data dir). Workers are `vigil worker` processes with concurrency 1, so a worker is one unit of
 * scaling; each configuration starts fresh workers (empty layer caches).
 *
 * A warm-up scans every image once (two workers), then for each N: N workers start, a forced bulk
 * rescan of all images is requested through the REST API, and throughput = images / (last
 * `scan completed` log time − request time). Each run measures N = 1, 2, 4 (the order alternates
 * between runs); best throughput of the runs per N. Ratio: throughput(N) / throughput(1). Target:
 * ≥ 0.8 × N up to the core count (N = 4 is reported, and judged only on a machine with ≥ 4 cores).
 * CPU seconds of the control plane (its /metrics), of the workers (/proc), of the database's Postgres
 * backends, of this process (the registry proxy, log parsing, the batch polls) and of the whole machine
 * (/proc/stat) are recorded per scan, with the control plane's analytics inserts (ClickHouse parts) a
 * scan; each worker's log lines split a scan's time (phasesOf).
 *
 * `node bench/p2-fleet.mjs [--runs N]` runs it alone; run.mjs calls `benchP2`.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  controlPlaneAnalyticsInserts,
  controlPlaneCpuSeconds,
  fleetHarness,
  loadNow,
  machineCpuSeconds,
  postgresCpu,
  postgresCpuDelta,
  processCpuSeconds,
} from './platform.mjs';

const SELF = fileURLToPath(import.meta.url);
// VIGIL_BENCH_P2_CPU_PROF=<dir>: the control plane's V8 CPU profile of each measured window (from the
// bulk request to the batch's end) is written there as <pid>-<n>.cpuprofile, n counting the windows in
// the order measured (bench/cpu-prof-preload.mjs window mode; summarise with bench/cpuprofile-top.mjs)
const PROF_DIR = process.env.VIGIL_BENCH_P2_CPU_PROF;
const profEnv = () => {
  if (!PROF_DIR) return {};
  mkdirSync(PROF_DIR, { recursive: true });
  // pid files of an earlier run name processes long gone (or reused pids): never signal those
  for (const f of readdirSync(PROF_DIR).filter((x) => x.endsWith('.pid'))) rmSync(join(PROF_DIR, f));
  return {
    NODE_OPTIONS: `--import ${join(dirname(SELF), 'cpu-prof-preload.mjs')}`,
    VIGIL_CPU_PROF_DIR: PROF_DIR,
    VIGIL_CPU_PROF_WINDOW: '1',
  };
};
/** Starts or ends a profiled window in every profiled process (SIGUSR2 toggles it). */
const toggleProfile = () => {
  if (!PROF_DIR) return;
  for (const f of readdirSync(PROF_DIR).filter((x) => x.endsWith('.pid'))) {
    try {
      process.kill(Number.parseInt(f, 10), 'SIGUSR2');
    } catch {
      // a process of an earlier fleet
    }
  }
};
const IMAGES = 60;
const WORKER_COUNTS = [1, 2, 4];
const log = (msg) => process.stderr.write(`[bench fleet] ${msg}\n`);

/**
 * Starts the fleet with `images` images, requests one scan of each (the images become known to the
 * control plane) and lets `workers` workers (concurrency `concurrency`) scan them all. Returns the
 * harness, the fleet, those workers (still running) and the requested scans (image and image id).
 */
export async function warmFleet({ images, workers, concurrency = 1 }) {
  const harness = await fleetHarness();
  const started = performance.now();
  const fleet = await harness.startFleet({ images, repositories: 4, controlPlaneEnv: profEnv() });
  try {
    const first = await harness.requestScans(fleet.api, fleet.images);
    const running = await Promise.all(
      Array.from({ length: workers }, () => fleet.startWorker({ concurrency })),
    );
    const rows = await harness.waitForScans(
      fleet.db,
      first.map((s) => s.scanId),
    );
    const bad = rows.filter((r) => r.status !== 'completed');
    if (bad.length) throw new Error(`warm-up scans did not complete: ${JSON.stringify(bad.slice(0, 3))}`);
    log(`fleet of ${images} images up and warmed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return { harness, fleet, workers: running, scans: first };
  } catch (error) {
    await fleet.close();
    throw error;
  }
}

/**
 * Polls the batch until every scan of it is final; returns its counts. Every 500 ms: each poll is a REST
 * request and a Postgres read in the control plane being measured (at 100 ms they were ~10 % of its CPU in
 * the window); the makespan comes from the workers' log times, so the interval does not change it.
 */
async function waitForBatch(fleet, batchId, timeoutMs = 600_000) {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const res = await fleet.api.call('GET', `/api/v1/scans/bulk/${batchId}`);
    const { counts, total } = res.body;
    if (counts.completed + counts.failed + counts.cancelled >= total) return { ...counts, total };
    if (Date.now() > deadline) throw new Error(`batch ${batchId} unfinished: ${JSON.stringify(res.body)}`);
    await sleep(500);
  }
}

/**
 * Where a worker's time goes, from its log lines after `since`: `scanMs` from `scan start` to `scan
 * completed` (pull, analysis, match, report, the control plane's completion), `gapMs` from one
 * completion to the next start on the same worker (ack, next pull, claim), `firstStartMs` from the
 * request to the first start (bulk dispatch and first pull).
 */
function phasesOf(workers, since) {
  const scan = [];
  const gap = [];
  let firstStart = Infinity;
  for (const w of workers) {
    const started = new Map();
    let lastDone = null;
    for (const e of w.events.filter((x) => x.line.time >= since)) {
      if (e.msg === 'scan start') {
        started.set(e.scanId, e.line.time);
        firstStart = Math.min(firstStart, e.line.time);
        if (lastDone !== null) gap.push(e.line.time - lastDone);
      } else if (e.msg === 'scan completed' && started.has(e.scanId)) {
        scan.push(e.line.time - started.get(e.scanId));
        lastDone = e.line.time;
      }
    }
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
  return { scanMs: mean(scan), gapMs: mean(gap), firstStartMs: firstStart - since };
}

/** One configuration: N fresh workers scan every image once (a forced bulk rescan). */
async function measureWorkers(fleet, n) {
  const workers = await Promise.all(Array.from({ length: n }, () => fleet.startWorker({ concurrency: 1 })));
  try {
    const cpuBefore = {
      cp: await controlPlaneCpuSeconds(fleet.controlPlane.url),
      workers: workers.map((w) => processCpuSeconds(w.pid)),
      machine: machineCpuSeconds(),
      inserts: await controlPlaneAnalyticsInserts(fleet.controlPlane.url),
      postgres: await postgresCpu(fleet.scratch.url),
      bench: process.cpuUsage(),
    };
    const load = await loadNow();
    toggleProfile();
    const requestedAt = Date.now();
    const bulk = await fleet.api.call('POST', '/api/v1/scans/bulk', {
      filter: { text: 'fleet/svc-' },
      force: true,
    });
    if (bulk.status !== 202) throw new Error(`bulk rescan: ${bulk.status} ${JSON.stringify(bulk.body)}`);
    const counts = await waitForBatch(fleet, bulk.body.id);
    toggleProfile();
    const completions = workers.flatMap((w) =>
      w.events
        .filter((e) => e.msg === 'scan completed' && e.line.time >= requestedAt)
        .map((e) => e.line.time),
    );
    const makespanMs = Math.max(...completions) - requestedAt;
    const cpu = {
      cp: (await controlPlaneCpuSeconds(fleet.controlPlane.url)) - cpuBefore.cp,
      workers: workers.map((w, i) => processCpuSeconds(w.pid) - cpuBefore.workers[i]),
      // every process of the machine from the request to the batch's end (its last poll may idle up to 500 ms)
      machine: machineCpuSeconds() - cpuBefore.machine,
      // the database's backends, and this process (the registry proxy, log parsing, the batch polls)
      postgres: postgresCpuDelta(cpuBefore.postgres, await postgresCpu(fleet.scratch.url)),
      bench: (() => {
        const { user, system } = process.cpuUsage(cpuBefore.bench);
        return (user + system) / 1e6;
      })(),
    };
    const inserts = (await controlPlaneAnalyticsInserts(fleet.controlPlane.url)) - cpuBefore.inserts;
    const result = {
      n,
      phases: phasesOf(workers, requestedAt),
      images: counts.total,
      counts,
      makespanMs,
      perSecond: (counts.completed / makespanMs) * 1000,
      perWorker: workers.map(
        (w) => w.events.filter((e) => e.msg === 'scan completed' && e.line.time >= requestedAt).length,
      ),
      cpuPerScanMs: {
        controlPlane: (cpu.cp / counts.total) * 1000,
        workers: (cpu.workers.reduce((a, b) => a + b, 0) / counts.total) * 1000,
        machine: (cpu.machine / counts.total) * 1000,
        postgres: (cpu.postgres / counts.total) * 1000,
        bench: (cpu.bench / counts.total) * 1000,
      },
      // analytics inserts (ClickHouse parts, finding_ids through its view not counted) a scan
      insertsPerScan: inserts / counts.total,
      load,
    };
    log(
      `${n} worker(s): ${counts.completed}/${counts.total} completed (${counts.failed} failed) in ` +
        `${(makespanMs / 1000).toFixed(1)} s = ${result.perSecond.toFixed(2)} scans/s; per worker ` +
        `${result.perWorker.join(', ')}; per scan ${result.phases.scanMs.toFixed(0)} ms + gap ` +
        `${result.phases.gapMs.toFixed(0)} ms (first start after ${result.phases.firstStartMs} ms); CPU per scan: control plane ${result.cpuPerScanMs.controlPlane.toFixed(0)} ms, ` +
        `workers ${result.cpuPerScanMs.workers.toFixed(0)} ms, machine ${result.cpuPerScanMs.machine.toFixed(0)} ms ` +
        `(postgres ${result.cpuPerScanMs.postgres.toFixed(0)} ms, bench ${result.cpuPerScanMs.bench.toFixed(0)} ms); ` +
        `${result.insertsPerScan.toFixed(2)} analytics inserts a scan (load ${load})`,
    );
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** P2 rows for run.mjs. */
export async function benchP2({ runs = 3 } = {}) {
  const { fleet, workers } = await warmFleet({ images: IMAGES, workers: 2 });
  const results = Object.fromEntries(WORKER_COUNTS.map((n) => [n, []]));
  try {
    await Promise.all(workers.map((w) => w.stop()));
    for (let r = 0; r < runs; r++) {
      // the order alternates, so a load change during a run does not always hit the same N
      const order = r % 2 === 0 ? WORKER_COUNTS : [...WORKER_COUNTS].reverse();
      for (const n of order) results[n].push(await measureWorkers(fleet, n));
    }
  } finally {
    await fleet.close();
  }
  const cores = availableParallelism();
  const best = (n) => results[n].reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const one = best(1);
  // What the cores allow at one worker's CPU a scan, with no contention at all: the control plane, the
  // stores and the registry share the cores here, so this bounds the N-worker ratio on this machine.
  const coresBusy = (one.cpuPerScanMs.machine / 1000) * one.perSecond;
  const ceiling = {
    bench: `P2 ceiling on this machine: ${cores} cores ÷ the cores one worker's fleet keeps busy (info)`,
    floor: '—',
    measured: `1 worker ${one.perSecond.toFixed(2)} scans/s × machine ${one.cpuPerScanMs.machine.toFixed(0)} ms a scan = ${coresBusy.toFixed(2)} cores busy`,
    value: `${(cores / coresBusy).toFixed(2)}× at most`,
    target: 'info',
    pass: true,
  };
  const rows = WORKER_COUNTS.map((n) => {
    const b = best(n);
    const ratio = b.perSecond / one.perSecond;
    const judged = n <= cores;
    const clean = results[n].every((x) => x.counts.failed === 0 && x.counts.cancelled === 0);
    return {
      bench: `P2 fleet throughput, ${n} worker${n > 1 ? 's' : ''} (${IMAGES} small images)`,
      floor: n === 1 ? '—' : `1 worker ${one.perSecond.toFixed(2)} scans/s`,
      measured:
        `${b.perSecond.toFixed(2)} scans/s (runs: ${results[n].map((x) => x.perSecond.toFixed(2)).join(', ')}); ` +
        `CPU/scan: cp ${b.cpuPerScanMs.controlPlane.toFixed(0)} ms, workers ${b.cpuPerScanMs.workers.toFixed(0)} ms, machine ${b.cpuPerScanMs.machine.toFixed(0)} ms`,
      value: `${ratio.toFixed(2)}× (${(ratio / n).toFixed(2)} × N)`,
      target: judged ? `≥ ${(0.8 * n).toFixed(1)}×` : `info (${cores} cores)`,
      pass: (judged ? ratio >= 0.8 * n : true) && clean,
      raw: results[n],
    };
  });
  return [...rows, ceiling];
}

if (process.argv[1] === SELF) {
  const argv = process.argv.slice(2);
  const runsAt = argv.indexOf('--runs');
  for (const row of await benchP2({ runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : 3 })) {
    process.stdout.write(
      `| ${row.bench} | ${row.floor} | ${row.measured} | ${row.value} | ${row.target} | ${row.pass ? 'yes' : 'NO'} |\n`,
    );
  }
}

/**
 * P4: cancel → worker stopped (issue #5, ARCHITECTURE.md §6). The fleet of P2 (real processes:
 * `vigil control-plane`, two `vigil worker` processes with concurrency 2, a local docker-registry
 * behind the harness's proxy, NATS JetStream, Postgres, chdb). Each round holds the proxy
 * (`proxy.hold()`: blob downloads stop halfway, so scans are surely running, mid-pull), requests a
 * forced scan of four images, waits until the four are running on the workers and stuck in a
 * download, then cancels them one after the other through the REST API (`POST /scans/{id}/cancel`).
 *
 * Latency per cancel: from just before the API call to the worker's `scan cancelled` log line, which
 * the worker writes once the control plane answered its `cancelled` report (the report call's
 * finish), taken from the line's own timestamp. Also split: the API call's answer and the worker's
 * `job cancel received` (the NATS cancel message arriving). ≥ 20 cancels; target: p95 < 1 s.
 *
 * `node bench/p4-cancel.mjs [--runs N]` runs it alone (N rounds of four cancels, default 8, at least 5);
 * run.mjs calls `benchP4`.
 */
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { warmFleet } from './p2-fleet.mjs';
import { fmtMs, latencyStats, loadNow } from './platform.mjs';

const SELF = fileURLToPath(import.meta.url);
const IMAGES = 24;
const PER_ROUND = 4; // two workers × concurrency 2: all four run at once
const MIN_ROUNDS = 5; // ≥ 20 cancels
const ROUNDS = 8; // 32 cancels by default, so one slow answer does not make the p95
const log = (msg) => process.stderr.write(`[bench P4] ${msg}\n`);

/** Resolves once `probe()` is true; throws naming `what` after `timeoutMs`. */
async function until(what, probe, timeoutMs = 60_000) {
  for (const deadline = Date.now() + timeoutMs; !(await probe());) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

/** The first event of any worker with this message about this scan (or undefined). */
const eventOf = (workers, msg, scanId) =>
  workers.flatMap((w) => w.events).find((e) => e.msg === msg && e.scanId === scanId);

/** One round: PER_ROUND running scans, each cancelled and timed. */
async function round(fleet, workers, images) {
  fleet.proxy.hold();
  try {
    const scans = [];
    for (const image of images) {
      const res = await fleet.api.call('POST', '/api/v1/scans', { imageId: image.imageId, force: true });
      if (res.status !== 201) throw new Error(`scan request: ${res.status} ${JSON.stringify(res.body)}`);
      scans.push(res.body.scan.id);
    }
    await until(
      'the scans to run and be stuck mid-download',
      async () =>
        scans.every((id) => eventOf(workers, 'scan start', id)) && fleet.proxy.waiting >= scans.length,
    );
    const out = [];
    for (const scanId of scans) {
      const t0 = Date.now();
      const res = await fleet.api.call('POST', `/api/v1/scans/${scanId}/cancel`);
      const apiMs = Date.now() - t0;
      if (res.status !== 200) throw new Error(`cancel: ${res.status} ${JSON.stringify(res.body)}`);
      const stopped = await until('the worker to report the cancel', async () =>
        Boolean(eventOf(workers, 'scan cancelled', scanId)),
      ).then(() => eventOf(workers, 'scan cancelled', scanId));
      const received = eventOf(workers, 'job cancel received', scanId);
      out.push({
        scanId,
        ms: stopped.line.time - t0,
        apiMs,
        signalMs: received ? received.line.time - t0 : null,
      });
    }
    return out;
  } finally {
    fleet.proxy.release();
  }
}

/** P4 rows for run.mjs. */
export async function benchP4({ runs = ROUNDS } = {}) {
  const { fleet, workers, scans } = await warmFleet({ images: IMAGES, workers: 2, concurrency: 2 });
  const cancels = [];
  try {
    const rounds = Math.max(MIN_ROUNDS, runs);
    for (let r = 0; r < rounds; r++) {
      const images = Array.from({ length: PER_ROUND }, (_, k) => scans[(r * PER_ROUND + k) % scans.length]);
      const got = await round(fleet, workers, images);
      cancels.push(...got);
      log(
        `round ${r + 1}/${rounds}: ${got.map((c) => fmtMs(c.ms)).join(', ')} ` +
          `(API ${got.map((c) => fmtMs(c.apiMs)).join(', ')}; load ${await loadNow()})`,
      );
    }
  } finally {
    await fleet.close();
  }
  const total = latencyStats(cancels.map((c) => c.ms));
  const api = latencyStats(cancels.map((c) => c.apiMs));
  const signal = latencyStats(cancels.filter((c) => c.signalMs !== null).map((c) => c.signalMs));
  return [
    {
      bench: `P4 cancel → worker stopped (${total.n} running scans)`,
      floor: '—',
      measured:
        `p50 ${fmtMs(total.p50)}, max ${fmtMs(total.max)}; API answer p95 ${fmtMs(api.p95)}, ` +
        `cancel at worker p95 ${fmtMs(signal.p95)}`,
      value: `p95 ${fmtMs(total.p95)}`,
      target: '< 1 s',
      pass: total.p95 < 1000 && total.n >= 20,
      raw: { total, api, signal, cancels },
    },
  ];
}

if (process.argv[1] === SELF) {
  const argv = process.argv.slice(2);
  const runsAt = argv.indexOf('--runs');
  for (const row of await benchP4({ runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : ROUNDS })) {
    process.stdout.write(
      `| ${row.bench} | ${row.floor} | ${row.measured} | ${row.value} | ${row.target} | ${row.pass ? 'yes' : 'NO'} |\n`,
    );
  }
}

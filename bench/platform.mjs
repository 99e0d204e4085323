/**
 * Shared parts of the platform benches P1-P4 (bench/p1-api.mjs, p2-fleet.mjs, p3-dispatch.mjs,
 * p4-cancel.mjs): the seed cache directory, latency statistics, a closed-loop load driver (N
 * concurrent clients, each sending its requests one after the other), TypeScript test harnesses
 * bundled for plain Node, JSON-printing child processes and the built control-plane modules.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WORK } from './fixtures.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'cli', 'bin', 'vigil.js');
export const REALDATA = process.env.VIGIL_REALDATA ?? resolve(ROOT, '../shared/realdata');
export const PG_ADMIN_URL = process.env.VIGIL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.VIGIL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A module of the built control plane (`control-plane/dist/<rel>`). */
export const controlPlane = (rel) => import(pathToFileURL(join(ROOT, 'control-plane', 'dist', rel)).href);

/**
 * Where seeded data survives between runs: `$VIGIL_BENCH_CACHE`, else /var/cache/vigil-bench when
 * writable, else `<tmpdir>/vigil-bench`.
 */
export function benchCache() {
  const wanted = process.env.VIGIL_BENCH_CACHE ?? '/var/cache/vigil-bench';
  try {
    mkdirSync(wanted, { recursive: true });
    accessSync(wanted, constants.W_OK);
    return wanted;
  } catch {
    const fallback = join(tmpdir(), 'vigil-bench');
    mkdirSync(fallback, { recursive: true });
    return fallback;
  }
}

/** A short hex hash of a JSON-able value (version stamps). */
export const stamp = (value) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);

/** p50/p95/p99/max/mean of latencies in ms (nearest-rank). */
export function latencyStats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, p50: at(50), p95: at(95), p99: at(99), max: s.at(-1) ?? NaN, mean };
}

/**
 * Closed-loop load: `clients` concurrent loops, each calling `call(k)` `perClient` times one after
 * the other, k = client × perClient + j (so two runs with the same sizes make the same calls).
 * A call that throws counts as an error. Returns latencies (ms), errors (first messages) and rate.
 */
export async function closedLoop(clients, perClient, call) {
  const latencies = [];
  const errors = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let j = 0; j < perClient; j++) {
        const t = performance.now();
        try {
          await call(c * perClient + j);
          latencies.push(performance.now() - t);
        } catch (error) {
          errors.push(String(error?.message ?? error).slice(0, 300));
        }
      }
    }),
  );
  const wallMs = performance.now() - started;
  return {
    ...latencyStats(latencies),
    errors: errors.length,
    firstErrors: [...new Set(errors)].slice(0, 3),
    wallMs,
    perSecond: (latencies.length / wallMs) * 1000,
  };
}

/**
 * Imports TypeScript modules of the repository (test harnesses and everything they import from the
 * repository) as one module: bundled by esbuild into bench/.work/ with npm packages left as
 * imports. The bundle lies two levels below the repository root, like test/harness/*.ts, so
 * modules that find the root from `import.meta.url` (test/support/realdata.ts) still do.
 */
export async function importTs(...rels) {
  const { build } = await import('esbuild');
  const out = join(WORK, `ts-${rels.join('+').replace(/[^\w+]+/g, '_')}.mjs`);
  if (resolve(dirname(out), '../..') !== ROOT) throw new Error(`${out} is not two levels below ${ROOT}`);
  await build({
    stdin: {
      contents: rels.map((rel) => `export * from './${rel}';`).join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return import(pathToFileURL(out).href);
}

/** The fleet harness (test/harness/fleet.ts, fleet-checks.ts, process.ts) as one module. */
export const fleetHarness = () =>
  importTs('test/harness/fleet.ts', 'test/harness/fleet-checks.ts', 'test/harness/process.ts');

/**
 * Runs `node script args` and resolves with the JSON it printed last on stdout; its stderr goes to
 * ours (progress), prefixed. Rejects when it exits non-zero.
 */
export function jsonChild(script, args, { env, label } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err = (err + d).slice(-8000);
      if (label) process.stderr.write(String(d).replace(/^(?=.)/gm, `[${label}] `));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited ${code}\n${err}`));
      const last = out.trim().split('\n').at(-1) ?? '';
      try {
        resolvePromise(JSON.parse(last));
      } catch {
        reject(new Error(`${script} printed no JSON: ${out.slice(-2000)}\n${err}`));
      }
    });
  });
}

/** Runs `vigil db build` over the realdata feeds into `out` (small: the realdata feeds are samples). */
export async function buildVulnDb(out) {
  const { runChild } = await import('./measure.mjs');
  await runChild(process.execPath, [
    CLI,
    'db',
    'build',
    '--from',
    join(REALDATA, 'feeds'),
    '--out',
    out,
    '-q',
  ]);
  return out;
}

/** Deletes a JetStream stream of the shared NATS server (bench streams only), ignoring a missing one. */
export async function deleteStream(stream) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: NATS_URL });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** The load average now, formatted. */
export async function loadNow() {
  const { loadavg } = await import('node:os');
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

export const fmtMs = (ms) => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);

/** The JSON file's content, or null when missing or unreadable. */
export function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a process so far (Linux /proc). */
export function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds every process of the machine spent so far, from /proc/stat's first line (user, nice, system,
 * irq, softirq, steal: every state but idle and iowait), summed over the cores.
 */
export function machineCpuSeconds() {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]
      .split(/\s+/)
      .map(Number);
    return (user + nice + system + irq + softirq + (steal || 0)) / 100; // USER_HZ 100
  } catch {
    return NaN;
  }
}

/** A running control plane's own CPU seconds (its Prometheus /metrics at `url`). */
export async function controlPlaneCpuSeconds(url) {
  const res = await fetch(`${url}/metrics`);
  const m = /^vigil_process_cpu_seconds_total (\S+)$/m.exec(await res.text());
  return m ? Number(m[1]) : NaN;
}

/** A running control plane's analytics inserts so far (its /metrics), summed over the tables. */
export async function controlPlaneAnalyticsInserts(url) {
  const res = await fetch(`${url}/metrics`);
  let total = 0;
  for (const m of (await res.text()).matchAll(/^vigil_analytics_inserts_total\{[^}]*\} (\S+)$/gm))
    total += Number(m[1]);
  return total;
}

/**
 * CPU seconds used so far by each Postgres backend connected to the database at `url` (other than
 * the one asking), by pid, from /proc: what the database server spent on a bench's statements.
 */
export async function postgresCpu(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return new Map(rows.map((r) => [r.pid, processCpuSeconds(r.pid) || 0]));
  } finally {
    await client.end();
  }
}

/** CPU seconds the backends used between two `postgresCpu` readings (backends that ended meanwhile are missed). */
export function postgresCpuDelta(before, after) {
  let sum = 0;
  for (const [pid, seconds] of after) sum += seconds - (before.get(pid) ?? 0);
  return sum;
}

/**
 * Seeds `count` images of one organisation in one statement: 10 repositories
 * `registry.bench/<bench>/app-0…9`, image g in repository g % 10, digest sha256(`<tag>-<g>`) (distinct
 * per tag, so rounds do not collide). `db` is the control plane's SqlDatabase (or anything with
 * `query(text, values)`).
 */
export async function seedBenchImages(db, { orgId, bench, tag, count }) {
  const prefix = `registry.bench/${bench}/app-`;
  await db.query(
    `WITH repo AS (
       INSERT INTO repositories (org_id, name)
       SELECT $1, $4 || g FROM generate_series(0, 9) g RETURNING id, name
     )
     INSERT INTO images (org_id, repository_id, name, digest)
     SELECT $1, repo.id, repo.name, 'sha256:' || encode(sha256(convert_to($2 || '-' || g, 'UTF8')), 'hex')
     FROM generate_series(1, $3) g JOIN repo ON repo.name = $4 || (g % 10)`,
    [orgId, tag, count, prefix],
  );
}

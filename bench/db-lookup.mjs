/**
 * Bench D2's child process: point lookups by (namespace, package) against a snapshot, in the
 * batched form the matcher uses (`reader.affected(keys)`, one call per scan's packages), next to
 * a plain in-memory Map of the same keys → arrays of the same AffectedPackage objects, measured in
 * the same process, same batches, same order.
 *
 * `node bench/db-lookup.mjs DB KEYS_FILE [--batches N] [--batch-size K] [--hit-share P] [--rounds R]`
 * KEYS_FILE (from db-feeds.mjs) holds `hits` (keys the feeds mention) and `misses` (keys of the
 * same shapes they do not). Each batch draws K keys, a share P of them hits (default: 250 batches
 * of 400 keys, 20 % hits). One untimed warm-up pass, then R rounds (default 5) of the snapshot
 * and of the Map, alternating; the best round of each counts. Prints JSON.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [db, keysFile, ...rest] = process.argv.slice(2);
const opt = (name, dflt) => (rest.includes(name) ? Number(rest[rest.indexOf(name) + 1]) : dflt);
const BATCHES = opt('--batches', 250);
const BATCH = opt('--batch-size', 400);
const HIT_SHARE = opt('--hit-share', 0.2);
const ROUNDS = opt('--rounds', 5);

/** Mulberry32 (the same seed every run: the same batches). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const { hits, misses } = JSON.parse(readFileSync(keysFile, 'utf8'));
const rand = prng(7);
const batches = [];
for (let b = 0; b < BATCHES; b++) {
  const keys = [];
  for (let k = 0; k < BATCH; k++) {
    const [namespace, packageName] =
      rand() < HIT_SHARE
        ? hits[Math.floor(rand() * hits.length)]
        : misses[Math.floor(rand() * misses.length)];
    keys.push({ namespace, packageName });
  }
  batches.push(keys);
}

const t0 = performance.now();
const { openSnapshot } = await import('@vigil/engine');
const importMs = performance.now() - t0;
const t1 = performance.now();
const reader = openSnapshot(db);
const openMs = performance.now() - t1;

// the Map: every key of the batches that has rows → its AffectedPackage objects (from the reader)
const keyOf = (namespace, packageName) => `${namespace}\u0000${packageName}`;
const map = new Map();
const distinctKeys = new Map(batches.flat().map((k) => [keyOf(k.namespace, k.packageName), k]));
for (const a of reader.affected([...distinctKeys.values()])) {
  const k = keyOf(a.namespace, a.packageName);
  const list = map.get(k);
  if (list) list.push(a);
  else map.set(k, [a]);
}

/** The Map in the reader's batched form: duplicate keys looked up once, rows in key order. */
function mapAffected(keys) {
  const seen = new Set();
  const out = [];
  for (const { namespace, packageName } of keys) {
    const k = keyOf(namespace, packageName);
    if (seen.has(k)) continue;
    seen.add(k);
    const list = map.get(k);
    if (list) for (const a of list) out.push(a);
  }
  return out;
}

const pass = (fn) => {
  let rows = 0;
  const t = performance.now();
  for (const keys of batches) rows += fn(keys).length;
  return { ms: performance.now() - t, rows };
};
const snapshotPass = () => pass((keys) => reader.affected(keys));
const mapPass = () => pass(mapAffected);

// warm-up (page cache, JIT), then alternating timed rounds
const warm = snapshotPass();
mapPass();
const snap = [];
const plain = [];
for (let r = 0; r < ROUNDS; r++) {
  snap.push(snapshotPass());
  plain.push(mapPass());
}
reader.close();
for (const r of [...snap, ...plain])
  if (r.rows !== warm.rows) throw new Error(`row count differs between passes: ${r.rows} vs ${warm.rows}`);

const lookups = BATCHES * BATCH;
let distinct = 0;
let hitKeys = 0;
for (const keys of batches) {
  const seen = new Set(keys.map((k) => keyOf(k.namespace, k.packageName)));
  distinct += seen.size;
  for (const k of seen) if (map.has(k)) hitKeys++;
}
const best = (all) => Math.min(...all.map((r) => r.ms));
const perSecond = (ms) => lookups / (ms / 1000);
const snapshotPerS = perSecond(best(snap));
const mapPerS = perSecond(best(plain));
process.stdout.write(
  `${JSON.stringify({
    importMs,
    openMs,
    batches: BATCHES,
    batchSize: BATCH,
    lookups,
    distinctPerBatch: distinct / BATCHES,
    hitShare: hitKeys / distinct,
    rowsPerPass: warm.rows,
    rowsPerHit: warm.rows / hitKeys,
    snapshotMs: snap.map((r) => r.ms),
    mapMs: plain.map((r) => r.ms),
    warmupMs: warm.ms,
    snapshotPerS,
    mapPerS,
    ratio: snapshotPerS / mapPerS,
  })}\n`,
);

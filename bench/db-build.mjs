/**
 * Bench D1's child process: `node bench/db-build.mjs FROM OUT` runs `buildSnapshot({from, out})`
 * of @vigil/engine (the built dist) and prints JSON `{ importMs, buildMs, bytes, files,
 * unrecognized, skipped, version, sources: [{name, counts}] }`. Peak RSS is measured around it by
 * the parent (/usr/bin/time), so this process does nothing else.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [from, out] = process.argv.slice(2);
const t0 = performance.now();
const { buildSnapshot } = await import('@vigil/engine');
const importMs = performance.now() - t0;
const t1 = performance.now();
const result = await buildSnapshot({ from, out });
const buildMs = performance.now() - t1;
process.stdout.write(
  `${JSON.stringify({
    importMs,
    buildMs,
    bytes: statSync(out).size,
    files: result.files,
    unrecognized: result.unrecognized.length,
    firstUnrecognized: result.unrecognized.slice(0, 3),
    skipped: result.skipped.length,
    version: result.meta.version,
    sources: result.meta.sources.map((s) => ({ name: s.name, counts: s.counts, lastError: s.lastError })),
  })}\n`,
);

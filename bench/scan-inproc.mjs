/**
 * In-process scan timing (no Node start-up, no module loading in the timed part), to split a CLI
 * figure into "engine work" and "process start": `node bench/scan-inproc.mjs IMAGE CACHE_DIR RUNS`.
 * Prints JSON `{ importMs, coldMs: [...], warmMs: [...] }`; the cache dir is filled by the first
 * cached scan (not timed) and must be fresh.
 */
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [image, cacheDir, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 3);
const t0 = performance.now();
const { scanImage, FsLayerCache } = await import('@vigil/engine');
const importMs = performance.now() - t0;

const time = async (options) => {
  const t = performance.now();
  const result = await scanImage({ input: image }, options);
  return { ms: performance.now() - t, packages: result.packages.length };
};
const cache = new FsLayerCache({ dir: cacheDir });
const cold = [];
const warm = [];
await time({ cache }); // fills the cache
for (let i = 0; i < runs; i++) {
  cold.push(await time({}));
  warm.push(await time({ cache }));
}
process.stdout.write(
  `${JSON.stringify({ importMs, coldMs: cold.map((r) => r.ms), warmMs: warm.map((r) => r.ms), packages: [cold[0]?.packages, warm[0]?.packages] })}\n`,
);

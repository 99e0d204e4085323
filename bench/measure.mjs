/**
 * Measuring helpers for the benches: wall time and peak RSS of a child process, best-of-N,
 * and a summary of a `vigil … --format json` report (so a fast scan that found nothing is visible).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const TIME = '/usr/bin/time';

/**
 * Runs `cmd args` with stdout sent to `stdoutFile` (or /dev/null) and stderr kept for errors.
 * Returns `{ ms, maxRssKiB, cpuMs }`; peak RSS and user+system CPU time come from
 * `/usr/bin/time -f '%M %U %S'` when present (else null). Rejects when the child exits non-zero.
 */
export function runChild(cmd, args, { stdoutFile, env, workDir } = {}) {
  const rssFile = join(workDir ?? '/tmp', `rss-${process.pid}-${Date.now()}.txt`);
  const useTime = existsSync(TIME);
  const [file, argv] = useTime ? [TIME, ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const out = openSync(stdoutFile ?? '/dev/null', 'w');
  return new Promise((resolve, reject) => {
    let stderr = '';
    const started = performance.now();
    const child = spawn(file, argv, { stdio: ['ignore', out, 'pipe'], env: { ...process.env, ...env } });
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      closeSync(out);
      let maxRssKiB = null;
      let cpuMs = null;
      if (useTime && existsSync(rssFile)) {
        // a non-zero exit adds a "Command exited with non-zero status" line before ours
        const [rss, user, sys] = readFileSync(rssFile, 'utf8')
          .trim()
          .split('\n')
          .at(-1)
          .split(' ')
          .map(Number);
        maxRssKiB = rss;
        cpuMs = (user + sys) * 1000;
        rmSync(rssFile, { force: true });
      }
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr}`));
      else resolve({ ms, maxRssKiB, cpuMs });
    });
  });
}

/** Runs `fn` `n` times and returns the fastest result (by `ms`) plus all timings. */
export async function bestOf(n, fn) {
  const all = [];
  for (let i = 0; i < n; i++) all.push(await fn(i));
  const best = all.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { ...best, all: all.map((r) => r.ms) };
}

/** Package counts per ecosystem and unknowns count of a JSON report file. */
export function summarizeReport(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const byEcosystem = {};
  for (const p of report.packages ?? []) byEcosystem[p.ecosystem] = (byEcosystem[p.ecosystem] ?? 0) + 1;
  return { packages: (report.packages ?? []).length, byEcosystem, unknowns: (report.unknowns ?? []).length };
}

/** Reads a file once so later timed runs see it in the page cache, as the floor does. */
export function warmPageCache(path) {
  return runChild('cat', [path]);
}

export const fmtSeconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
export const fmtMiB = (kib) => `${(kib / 1024).toFixed(0)} MiB`;

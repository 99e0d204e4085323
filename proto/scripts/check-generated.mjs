#!/usr/bin/env node
// Freshness check of proto/gen (protobuf-es scripts/gh-diffcheck.js in spirit): regenerates the
// TypeScript from proto/ into a temporary directory with the same buf.gen.yaml and the local
// protoc-gen-es (no network), formats it as `npm run generate` does, and compares it file by
// file with the committed proto/gen. Exits 1 naming every stale, missing or extra file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Relative paths of every file under dir, sorted; [] when dir does not exist. */
function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Formats text as prettier would format the committed file at `target`. */
async function format(text, target) {
  const options = (await prettier.resolveConfig(target, { editorconfig: true })) ?? {};
  return prettier.format(text, { ...options, filepath: target });
}

/**
 * Regenerates proto/gen into a temporary directory and compares it with the committed files.
 * @param {string} [root] repository root
 * @returns {Promise<{ file: string, problem: 'stale' | 'missing' | 'extra' }[]>} empty when fresh
 */
export async function checkGenerated(root = ROOT) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'vigil-proto-gen-'));
  try {
    execFileSync(path.join(root, 'node_modules/.bin/buf'), ['generate', '--output', tmp], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const freshDir = path.join(tmp, 'proto/gen');
    const committedDir = path.join(root, 'proto/gen');
    const fresh = listFiles(freshDir);
    const committed = new Set(listFiles(committedDir));
    const problems = [];
    for (const rel of fresh) {
      if (!committed.has(rel)) {
        problems.push({ file: rel, problem: 'missing' });
        continue;
      }
      committed.delete(rel);
      const target = path.join(committedDir, rel);
      const expected = await format(readFileSync(path.join(freshDir, rel), 'utf8'), target);
      if (expected !== readFileSync(target, 'utf8')) problems.push({ file: rel, problem: 'stale' });
    }
    for (const rel of committed) problems.push({ file: rel, problem: 'extra' });
    return problems;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = await checkGenerated();
  for (const { file, problem } of problems) process.stderr.write(`proto/gen/${file}: ${problem}\n`);
  if (problems.length > 0) {
    process.stderr.write('proto/gen is out of date: run `npm run generate` and commit the result\n');
    process.exit(1);
  }
  process.stderr.write('proto/gen is up to date\n');
}

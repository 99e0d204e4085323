/**
 * Bench images, built once into bench/.work/ (gitignored) and reused while present:
 * - B1 (`b1.tar`, ≥ 300 MB uncompressed, gzip level 6 layers): layer 1 = the debootstrap bookworm
 *   rootfs of test/harness/debian.ts (dpkg database + Debian python3-* packages), layer 2 = `/app`
 *   holding a real `npm install` of NPM_PACKAGES (package.json, package-lock.json, node_modules).
 * - B3 (`b3-1g.tar`, `b3-2g.tar`, gzip level 1 layers): the B1 layers, then extra layers until the
 *   uncompressed total reaches 1 GiB / 2 GiB: copies of the rootfs under `/opt/rootfs-<k>` and of
 *   the app under `/opt/app-<k>` (so every diffID differs) and 96 MiB of random bytes per data
 *   layer (`/data/<k>/blob-*.bin`, incompressible).
 * Build times and sizes are written to bench/.work/fixtures.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHarness } from './load-harness.mjs';
import process from 'node:process';

export const WORK = join(dirname(fileURLToPath(import.meta.url)), '.work');

/**
 * A create-react-app style front end plus an express server: ~1,300 packages (webpack, babel,
 * jest, eslint, postcss, workbox …), ~1,400 package.json files, ~37,000 files, ~270 MB as a tar (npm also installs the typescript peer).
 * Pinned so the tree is the same on every machine (the lock file is resolved on first build).
 */
export const NPM_PACKAGES = [
  'react-scripts@5.0.1',
  'react@18.3.1',
  'react-dom@18.3.1',
  'express@4.21.2',
  'lodash@4.17.21',
];

const MiB = 1024 * 1024;
const log = (msg) => process.stderr.write(`[bench fixtures] ${msg}\n`);
const sh = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], ...opts });

function recordBuild(name, info) {
  const file = join(WORK, 'fixtures.json');
  const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  all[name] = { ...info, builtAt: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}

/** Runs `build(tmpPath)` unless `path` exists; the result is renamed into place when done. */
async function once(name, path, build) {
  if (existsSync(path)) return path;
  mkdirSync(WORK, { recursive: true });
  const started = Date.now();
  log(`building ${name} …`);
  const extra = (await build(`${path}.tmp`)) ?? {};
  renameSync(`${path}.tmp`, path);
  const seconds = (Date.now() - started) / 1000;
  log(`${name} built in ${seconds.toFixed(1)} s`);
  recordBuild(name, { seconds, bytes: statSync(path).size, ...extra });
  return path;
}

/** The cached debootstrap rootfs tarball (built by test/harness/debian.ts on first use). */
export async function rootfsTar() {
  const { debianRootfs } = await loadHarness('debian');
  const started = Date.now();
  const path = await debianRootfs();
  const seconds = (Date.now() - started) / 1000;
  if (seconds > 5) recordBuild('debian-rootfs', { seconds, bytes: statSync(path).size, path });
  return path;
}

/** Layer 2 of B1: `app/` with package.json, package-lock.json and node_modules from the npm registry. */
export function nodeModulesTar() {
  return once('node-modules-layer', join(WORK, 'node-modules.tar'), (tmp) => {
    const base = join(WORK, 'npm-app');
    const app = join(base, 'app');
    rmSync(base, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true }, null, 2),
    );
    sh(
      'npm',
      [
        'install',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--cache',
        join(WORK, 'npm-cache'),
        ...NPM_PACKAGES,
      ],
      { cwd: app },
    );
    sh('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-cf', tmp, '-C', base, 'app']);
    const files = Number(
      execFileSync('sh', ['-c', `find '${app}/node_modules' -name package.json | wc -l`])
        .toString()
        .trim(),
    );
    rmSync(base, { recursive: true, force: true });
    return { packageJsonFiles: files };
  });
}

/** A tar of `tree` (a directory holding one top-level entry `prefix`), written to `out`. */
function tarTree(out, cwd, entry) {
  sh('tar', ['--numeric-owner', '--sort=name', '-cf', out, '-C', cwd, entry]);
}

/** Extra B3 layers: the rootfs and app re-rooted under /opt, and random data. Cached by name. */
async function extraLayer(kind, k) {
  const path = join(WORK, 'layers', `${kind}-${k}.tar`);
  mkdirSync(dirname(path), { recursive: true });
  return once(`layer ${kind}-${k}`, path, async (tmp) => {
    const stage = join(WORK, 'stage');
    rmSync(stage, { recursive: true, force: true });
    if (kind === 'data') {
      const dir = join(stage, 'data', String(k));
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 3; i++)
        sh('sh', ['-c', `head -c ${32 * MiB} /dev/urandom > '${join(dir, `blob-${i}.bin`)}'`]);
      tarTree(tmp, stage, 'data');
    } else {
      const src = kind === 'rootfs' ? await rootfsTar() : await nodeModulesTar();
      const dir = join(stage, 'opt', `${kind}-${k}`);
      mkdirSync(dir, { recursive: true });
      sh('tar', ['--numeric-owner', '-xf', src, '-C', dir]);
      tarTree(tmp, stage, 'opt');
    }
    rmSync(stage, { recursive: true, force: true });
  });
}

async function writeArchive(tmp, layers, compression, repoTag) {
  const { writeDockerArchive } = await loadHarness('docker-archive-writer');
  const written = await writeDockerArchive({ out: tmp, layers, compression, repoTag });
  return {
    uncompressedBytes: written.layers.reduce((n, l) => n + l.uncompressedSize, 0),
    layers: written.layers.map((l) => ({
      path: l.path,
      diffId: l.diffId,
      uncompressed: l.uncompressedSize,
      stored: l.storedSize,
    })),
  };
}

/** B1's two layer tars. */
export async function b1Layers() {
  return [
    { tar: await rootfsTar(), createdBy: 'debootstrap --variant=minbase bookworm (+ python3 packages)' },
    { tar: await nodeModulesTar(), createdBy: `npm install ${NPM_PACKAGES.join(' ')}` },
  ];
}

/** The B1 docker-archive (gzip level 6 layers). */
export async function b1Image() {
  const layers = await b1Layers();
  return once('b1', join(WORK, 'b1.tar'), (tmp) =>
    writeArchive(tmp, layers, 'gzip', 'vigil-bench/b1:latest'),
  );
}

/** A B3 docker-archive of at least `gib` GiB uncompressed (gzip level 1 layers). */
export async function b3Image(gib) {
  const layers = await b1Layers();
  let total = layers.reduce((n, l) => n + statSync(l.tar).size, 0);
  const kinds = ['rootfs', 'app', 'data'];
  for (let i = 0; total < gib * 1024 * MiB; i++) {
    const tar = await extraLayer(kinds[i % 3], Math.floor(i / 3));
    layers.push({ tar, createdBy: `bench bulk layer ${i}` });
    total += statSync(tar).size;
  }
  return once(`b3-${gib}g`, join(WORK, `b3-${gib}g.tar`), (tmp) =>
    writeArchive(tmp, layers, { gzipLevel: 1 }, `vigil-bench/b3:${gib}g`),
  );
}

/** Per-fixture build records (seconds, bytes) from fixtures.json. */
export function fixtureRecords() {
  const file = join(WORK, 'fixtures.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
}

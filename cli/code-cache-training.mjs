// The training runs of the bundle's V8 code cache (cli/build.mjs). V8 puts into a code cache only
// the functions compiled before it is made, and compiles most functions lazily, on first call: a
// cache made after `vigil --version` holds the start-up and command-line code, and every scan then
// compiles its own path (archive reading, layer cache, merge, purls, report) again, ≈ 60 ms of
// CPU of a warm rescan (bench B2). So the build runs what users run, each run in a fresh process
// that takes the previous runs' cache and writes it again with what it compiled on top:
// `--version`, then a cold and a warm scan of a small docker-archive written here (Debian
// os-release, a dpkg status, an npm package and a Python dist-info in two layers, one whiteout),
// in JSON and in the table format.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';

/** A tar (uncompressed, so its sha256 is the diffID) of these files; '' contents: a whiteout. */
async function layerTar(files) {
  const p = pack();
  const chunks = [];
  p.on('data', (c) => chunks.push(c));
  const done = new Promise((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const [name, contents] of Object.entries(files)) p.entry({ name, mtime: new Date(0) }, contents);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
const DPKG_STATUS = [
  ['libc6', '2.36-9+deb12u4', 'glibc'],
  ['zlib1g', '1:1.2.13.dfsg-1', 'zlib'],
]
  .map(([name, version, source]) =>
    [
      `Package: ${name}`,
      'Status: install ok installed',
      'Architecture: amd64',
      `Source: ${source}`,
      `Version: ${version}`,
      'Description: training package',
      '',
    ].join('\n'),
  )
  .join('\n');

/** Writes the training docker-archive into `dir`, returns its path. */
async function writeTrainingImage(dir) {
  const layers = [
    await layerTar({
      'etc/os-release': OS_RELEASE,
      'var/lib/dpkg/status': DPKG_STATUS,
      'var/lib/dpkg/info/libc6:amd64.list': '/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n',
      'app/node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.3.0","license":"WTFPL"}',
      'app/node_modules/old/package.json': '{"name":"old","version":"0.0.1"}',
    }),
    await layerTar({
      'app/node_modules/.wh.old': '',
      'usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA':
        'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n',
    }),
  ];
  const diffIds = layers.map((l) => `sha256:${createHash('sha256').update(l).digest('hex')}`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: diffIds },
      config: {},
    }),
  );
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const files = { [configName]: config };
  layers.forEach((l, i) => (files[`layer${i}/layer.tar`] = l));
  files['manifest.json'] = JSON.stringify([
    {
      Config: configName,
      RepoTags: ['vigil-training:1'],
      Layers: layers.map((_, i) => `layer${i}/layer.tar`),
    },
  ]);
  const image = join(dir, 'training.tar');
  writeFileSync(image, await layerTar(files));
  return image;
}

/**
 * Runs the training commands through `launch.cjs` (`launchFile`), each consuming and rewriting the
 * code cache. A failing run fails the build: the bundle itself is broken.
 */
export async function trainCodeCache(launchFile, binFile) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-code-cache-'));
  try {
    const image = await writeTrainingImage(dir);
    const cache = join(dir, 'cache');
    const runs = [
      ['--version'],
      ['image', '--input', image, '--format', 'json', '-q', '--cache-dir', cache],
      ['image', '--input', image, '--format', 'json', '-q', '--cache-dir', cache],
      ['image', '--input', image, '-q', '--cache-dir', cache],
    ];
    for (const args of runs)
      execFileSync(
        process.execPath,
        ['-e', `require(${JSON.stringify(launchFile)}).launch({ writeCodeCache: true });`, binFile, ...args],
        // no network, no user's DB: the scans report the inventory and say that no DB is there
        {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: { ...process.env, VIGIL_CACHE_DIR: dir, VIGIL_DB: join(dir, 'none.db'), NO_COLOR: '1' },
        },
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

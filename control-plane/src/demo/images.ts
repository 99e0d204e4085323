/**
 * The demo images of the all-in-one server, written by this module (no Docker, no downloads) into the data
 * directory: small Alpine 3.11 root filesystems with a real apk database of that release, plus an npm app and a
 * Python app on the same base layer, as an OCI layout and a docker-archive. Package versions are real Alpine
 * 3.11 / npm / PyPI versions with published advisories, so the demo scans find something through the normal
 * worker path. Output is deterministic (fixed mtimes, stable JSON), so every start computes the same digests.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarArchive, type TarEntry } from './tar.js';

/** Files of one layer: path (no leading `/`) → content. */
type FileTree = Readonly<Record<string, string>>;

interface DemoImageSpec {
  repository: string;
  tag: string;
  format: 'oci-layout' | 'docker-archive';
  layers: readonly FileTree[];
  cmd: string[];
}

/** A demo image on disk. `digest` is the manifest digest (OCI layout) or the config digest (docker-archive). */
export interface DemoImage {
  repository: string;
  tag: string;
  format: 'oci-layout' | 'docker-archive';
  digest: string;
  /** absolute path of the layout directory or the archive file */
  path: string;
}

const CREATED = '2024-01-01T00:00:00Z';

/** One apk database entry (the fields the apk analyzer reads). */
const apk = (name: string, version: string, origin: string, license: string, description: string): string =>
  [`P:${name}`, `V:${version}`, 'A:x86_64', `T:${description}`, `L:${license}`, `o:${origin}`, ''].join('\n');

/** Alpine 3.11.6 as released (May 2020): its base packages, several with advisories fixed later in 3.11. */
const ALPINE_3_11: FileTree = {
  'etc/alpine-release': '3.11.6\n',
  'etc/os-release': [
    'NAME="Alpine Linux"',
    'ID=alpine',
    'VERSION_ID=3.11.6',
    'PRETTY_NAME="Alpine Linux v3.11"',
    'HOME_URL="https://alpinelinux.org/"',
    'BUG_REPORT_URL="https://bugs.alpinelinux.org/"',
    '',
  ].join('\n'),
  'lib/apk/db/installed': [
    apk('musl', '1.1.24-r2', 'musl', 'MIT', 'the musl c library (libc) implementation'),
    apk(
      'busybox',
      '1.31.1-r9',
      'busybox',
      'GPL-2.0-only',
      'Size optimized toolbox of many common UNIX utilities',
    ),
    apk(
      'alpine-baselayout',
      '3.2.0-r3',
      'alpine-baselayout',
      'GPL-2.0-only',
      'Alpine base dir structure and init scripts',
    ),
    apk('alpine-keys', '2.1-r2', 'alpine-keys', 'MIT', 'Public keys for Alpine Linux packages'),
    apk('libcrypto1.1', '1.1.1g-r0', 'openssl', 'OpenSSL', 'Crypto library from openssl'),
    apk('libssl1.1', '1.1.1g-r0', 'openssl', 'OpenSSL', 'SSL shared libraries'),
    apk(
      'ca-certificates-cert',
      '20191127-r2',
      'ca-certificates',
      'MPL-2.0 AND MIT',
      'Mozilla bundled certificates',
    ),
    apk(
      'libc-utils',
      '0.7.2-r0',
      'libc-dev',
      'BSD-2-Clause AND BSD-3-Clause',
      'Meta package to pull in correct libc',
    ),
    apk('ssl_client', '1.31.1-r9', 'busybox', 'GPL-2.0-only', 'EXternal ssl_client for busybox wget'),
    apk('zlib', '1.2.11-r3', 'zlib', 'Zlib', 'A compression/decompression Library'),
    apk(
      'apk-tools',
      '2.10.5-r0',
      'apk-tools',
      'GPL-2.0-only',
      'Alpine Package Keeper - package manager for alpine',
    ),
    apk('scanelf', '1.2.4-r0', 'pax-utils', 'GPL-2.0-only', 'Scan ELF binaries for stuff'),
    apk('musl-utils', '1.1.24-r2', 'musl', 'MIT BSD GPL2+', 'the musl c library (libc) implementation'),
  ].join('\n'),
};

const npmPackage = (name: string, version: string, license: string): string =>
  `${JSON.stringify({ name, version, license, main: 'index.js' }, null, 2)}\n`;

/** An Express-style API with npm dependencies installed under /app/node_modules. */
const NODE_APP: FileTree = {
  'app/package.json': `${JSON.stringify(
    {
      name: 'demo-api',
      version: '1.4.2',
      private: true,
      dependencies: { lodash: '^4.17.21', minimist: '1.2.5', ms: '^2.1.3', semver: '7.5.1' },
    },
    null,
    2,
  )}\n`,
  'app/package-lock.json': `${JSON.stringify(
    {
      name: 'demo-api',
      version: '1.4.2',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'demo-api', version: '1.4.2' },
        'node_modules/lodash': { version: '4.17.21', license: 'MIT' },
        'node_modules/minimist': { version: '1.2.5', license: 'MIT' },
        'node_modules/ms': { version: '2.1.3', license: 'MIT' },
        'node_modules/semver': { version: '7.5.1', license: 'ISC' },
      },
    },
    null,
    2,
  )}\n`,
  'app/index.js': "console.log('demo api');\n",
  'app/node_modules/lodash/package.json': npmPackage('lodash', '4.17.21', 'MIT'),
  'app/node_modules/minimist/package.json': npmPackage('minimist', '1.2.5', 'MIT'),
  'app/node_modules/ms/package.json': npmPackage('ms', '2.1.3', 'MIT'),
  'app/node_modules/semver/package.json': npmPackage('semver', '7.5.1', 'ISC'),
};

const pythonMetadata = (name: string, version: string, license: string): string =>
  ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, `License: ${license}`, ''].join('\n');

const SITE = 'usr/lib/python3.8/site-packages';
/** A Python job runner with its site-packages installed. */
const PYTHON_APP: FileTree = {
  [`${SITE}/requests-2.31.0.dist-info/METADATA`]: pythonMetadata('requests', '2.31.0', 'Apache 2.0'),
  [`${SITE}/certifi-2024.2.2.dist-info/METADATA`]: pythonMetadata('certifi', '2024.2.2', 'MPL-2.0'),
  [`${SITE}/idna-3.7.dist-info/METADATA`]: pythonMetadata('idna', '3.7', 'BSD-3-Clause'),
  'srv/worker.py': "print('demo worker')\n",
};

export const DEMO_IMAGE_SPECS: readonly DemoImageSpec[] = [
  {
    repository: 'demo/alpine-base',
    tag: '3.11',
    format: 'oci-layout',
    layers: [ALPINE_3_11],
    cmd: ['/bin/sh'],
  },
  {
    repository: 'demo/node-api',
    tag: '1.4.2',
    format: 'oci-layout',
    layers: [ALPINE_3_11, NODE_APP],
    cmd: ['node', '/app/index.js'],
  },
  {
    repository: 'demo/python-worker',
    tag: '2.0',
    format: 'docker-archive',
    layers: [ALPINE_3_11, PYTHON_APP],
    cmd: ['python3', '/srv/worker.py'],
  },
];

interface Blob {
  digest: string;
  bytes: Buffer;
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const blob = (bytes: Buffer): Blob => ({ digest: sha256(bytes), bytes });
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** A layer's tar: its files plus every parent directory, in path order. */
function layerTar(files: FileTree): Buffer {
  const dirs = new Set<string>();
  for (const path of Object.keys(files)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  const entries: TarEntry[] = [
    ...[...dirs].map((path) => ({ path })),
    ...Object.entries(files).map(([path, content]) => ({ path, content })),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return tarArchive(entries);
}

function imageConfig(spec: DemoImageSpec, diffIds: string[]): Buffer {
  return json({
    architecture: 'amd64',
    os: 'linux',
    created: CREATED,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: spec.cmd },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: CREATED, created_by: `vigil demo layer ${i + 1}` })),
  });
}

/** The files of an image as they go to disk: relative path → bytes. */
function imageFiles(spec: DemoImageSpec): { digest: string; files: Map<string, Buffer> } {
  const tars = spec.layers.map(layerTar);
  const config = blob(imageConfig(spec, tars.map(sha256)));
  const files = new Map<string, Buffer>();
  if (spec.format === 'docker-archive') {
    const layerPaths = tars.map((tar) => `${sha256(tar).slice(7)}/layer.tar`);
    const entries: TarEntry[] = [
      ...tars.map((tar, i) => ({ path: layerPaths[i]!, content: tar })),
      { path: `${config.digest.slice(7)}.json`, content: config.bytes },
      {
        path: 'manifest.json',
        content: json([
          {
            Config: `${config.digest.slice(7)}.json`,
            RepoTags: [`${spec.repository}:${spec.tag}`],
            Layers: layerPaths,
          },
        ]),
      },
    ];
    files.set('', tarArchive(entries));
    return { digest: config.digest, files };
  }
  const layers = tars.map((tar) => blob(gzipSync(tar, { level: 6 })));
  const manifest = blob(
    json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: config.digest,
        size: config.bytes.length,
      },
      layers: layers.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: l.digest,
        size: l.bytes.length,
      })),
    }),
  );
  for (const b of [config, manifest, ...layers]) files.set(`blobs/sha256/${b.digest.slice(7)}`, b.bytes);
  files.set('oci-layout', json({ imageLayoutVersion: '1.0.0' }));
  files.set(
    'index.json',
    json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifest.digest,
          size: manifest.bytes.length,
          annotations: { 'org.opencontainers.image.ref.name': spec.tag },
        },
      ],
    }),
  );
  return { digest: manifest.digest, files };
}

/**
 * Writes the demo images under `dir` (skipping images already there) and describes them. An image is written
 * into a temp path and renamed into place, so a crash never leaves a half-written image behind.
 */
export async function writeDemoImages(dir: string): Promise<DemoImage[]> {
  await mkdir(dir, { recursive: true });
  const images: DemoImage[] = [];
  for (const spec of DEMO_IMAGE_SPECS) {
    const { digest, files } = imageFiles(spec);
    const base = `${spec.repository.replace(/\//g, '_')}_${spec.tag}`;
    const path = join(dir, spec.format === 'docker-archive' ? `${base}.tar` : base);
    if (!(await exists(path))) {
      const temp = `${path}.tmp-${process.pid}`;
      await rm(temp, { recursive: true, force: true });
      for (const [relative, bytes] of files) {
        const target = relative === '' ? temp : join(temp, relative);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, bytes);
      }
      await rename(temp, path);
    }
    images.push({ repository: spec.repository, tag: spec.tag, format: spec.format, digest, path });
  }
  return images;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

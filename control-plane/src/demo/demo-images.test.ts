import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanImage } from '@vigil/engine/core';
import { matchInventory, openSnapshot } from '@vigil/engine/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoImages, type DemoImage } from './images.js';
import { tarArchive } from './tar.js';
import { DEMO_FEEDS_DIR, ensureVulnDb, type VulnDbChoice } from './vulndb.js';

let root: string;
let images: DemoImage[];
let db: VulnDbChoice;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vigil-demo-'));
  images = await writeDemoImages(join(root, 'images'));
  db = await ensureVulnDb({ dbPath: null, feedsDir: DEMO_FEEDS_DIR, dataDir: root });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('demo images', () => {
  it('are the same bytes and digests on every write, and an existing image is left alone', async () => {
    const again = await writeDemoImages(join(root, 'again'));
    const rewritten = await writeDemoImages(join(root, 'images'));
    const archive = (dir: string) => readFile(join(root, dir, 'demo_python-worker_2.0.tar'));
    expect({
      digests: again.map((i) => i.digest),
      rewritten: rewritten.map((i) => i.path),
      sameArchive: (await archive('images')).equals(await archive('again')),
    }).toEqual({
      digests: images.map((i) => i.digest),
      rewritten: images.map((i) => i.path),
      sameArchive: true,
    });
  });

  it('scan through the engine to the packages and advisories they were written for', async () => {
    const reader = openSnapshot(db.path);
    try {
      const results = [];
      for (const image of images) {
        const scan = await scanImage({ input: image.path });
        const { findings } = matchInventory(scan, reader);
        results.push({
          image: `${image.repository}:${image.tag} (${image.format})`,
          os: scan.os,
          packages: scan.packages.length,
          vulnerabilities: [...new Set(findings.map((f) => `${f.package.name} ${f.id}`))]
            .filter((s) => !/^(libssl1\.1|ssl_client|musl-utils) /.test(s))
            .sort(),
        });
      }
      const alpine = [
        'apk-tools CVE-2021-30139',
        'apk-tools CVE-2021-36159',
        'busybox CVE-2021-28831',
        'busybox CVE-2021-42374',
        'busybox CVE-2021-42378',
        'libcrypto1.1 CVE-2020-1971',
        'libcrypto1.1 CVE-2021-23840',
        'libcrypto1.1 CVE-2021-23841',
        'libcrypto1.1 CVE-2021-3449',
        'libcrypto1.1 CVE-2021-3450',
        'musl CVE-2020-28928',
        'zlib CVE-2022-37434',
      ];
      const os = expect.objectContaining({ family: 'alpine', version: '3.11.6' });
      expect({ origin: db.origin, results }).toEqual({
        origin: 'built',
        results: [
          { image: 'demo/alpine-base:3.11 (oci-layout)', os, packages: 13, vulnerabilities: alpine },
          {
            image: 'demo/node-api:1.4.2 (oci-layout)',
            os,
            packages: 17,
            vulnerabilities: [...alpine, 'minimist CVE-2021-44906', 'semver CVE-2022-25883'].sort(),
          },
          {
            image: 'demo/python-worker:2.0 (docker-archive)',
            os,
            packages: 16,
            vulnerabilities: [...alpine, 'requests CVE-2024-35195'].sort(),
          },
        ],
      });
    } finally {
      reader.close();
    }
  });

  it('reuse the database built on an earlier start, and refuse a VIGIL_DB that is not there', async () => {
    const reused = await ensureVulnDb({ dbPath: null, feedsDir: null, dataDir: root });
    const configured = await ensureVulnDb({ dbPath: db.path, feedsDir: null, dataDir: '/nonexistent' });
    const missing = await ensureVulnDb({
      dbPath: join(root, 'nope.db'),
      feedsDir: null,
      dataDir: root,
    }).catch((e: unknown) => (e as { code: string }).code);
    expect({ reused, configured, missing }).toEqual({
      reused: { path: db.path, version: db.version, origin: 'existing' },
      configured: { path: db.path, version: db.version, origin: 'configured' },
      missing: 'CP_INVALID_ARGUMENT',
    });
  });
});

describe('tarArchive', () => {
  it('writes ustar headers with checksums, padding and a long path split into prefix and name', () => {
    const long = `${'d'.repeat(120)}/file.txt`;
    const tar = tarArchive([
      { path: 'a/' },
      { path: 'a/b.txt', content: 'hello' },
      { path: long, content: 'x' },
    ]);
    const field = (block: number, offset: number, length: number): string =>
      tar
        .subarray(block * 512 + offset, block * 512 + offset + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const checksumOk = (block: number): boolean => {
      const h = Buffer.from(tar.subarray(block * 512, block * 512 + 512));
      const stored = parseInt(field(block, 148, 8), 8);
      h.fill(' ', 148, 156);
      return stored === h.reduce((s, b) => s + b, 0);
    };
    expect({
      length: tar.length,
      entries: [0, 1, 3].map((b) => ({
        name: field(b, 0, 100),
        prefix: field(b, 345, 155),
        type: field(b, 156, 1),
        size: parseInt(field(b, 124, 12), 8),
        checksumOk: checksumOk(b),
      })),
      body: field(2, 0, 512),
    }).toEqual({
      length: 512 * 7,
      entries: [
        { name: 'a/', prefix: '', type: '5', size: 0, checksumOk: true },
        { name: 'a/b.txt', prefix: '', type: '0', size: 5, checksumOk: true },
        { name: 'file.txt', prefix: 'd'.repeat(120), type: '0', size: 1, checksumOk: true },
      ],
      body: 'hello',
    });
  });
});

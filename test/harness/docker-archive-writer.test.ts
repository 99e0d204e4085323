import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDockerArchive } from '../../engine/src/image/archive/index.js';
import { writeDockerArchive, type LayerCompression } from './docker-archive-writer.js';

let work: string;
const layerTars: string[] = [];

/** sha256 of a file as the `sha256sum` tool computes it (the oracle for diffIDs and digests). */
const sha256sum = (path: string) => `sha256:${execFileSync('sha256sum', [path]).toString().split(' ')[0]}`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vigil-writer-'));
  // two layers made by GNU tar: a base and one that adds a file and whites out another
  const trees = [
    { 'etc/os-release': 'ID=debian\nVERSION_ID="12"\n', 'usr/bin/tool': '#!/bin/sh\n' },
    { 'app/package.json': '{"name":"a","version":"1.0.0"}\n', 'usr/bin/.wh.tool': '' },
  ];
  for (const [i, tree] of trees.entries()) {
    const dir = join(work, `tree-${i}`);
    for (const [rel, content] of Object.entries(tree)) {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), content);
    }
    const tar = join(work, `layer-${i}.tar`);
    const tops = [...new Set(Object.keys(tree).map((p) => p.split('/')[0]!))];
    execFileSync('tar', ['--numeric-owner', '--sort=name', '-cf', tar, '-C', dir, ...tops]);
    layerTars.push(tar);
  }
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('writeDockerArchive', () => {
  it.each<[string, LayerCompression, string]>([
    ['plain', 'none', 'layer.tar'],
    ['gzip', 'gzip', 'layer.tar.gz'],
    ['gzip_level_1', { gzipLevel: 1 }, 'layer.tar.gz'],
  ])(
    'writes a docker-archive with %s layers that skopeo and the engine read back',
    async (name, compression, file) => {
      const out = join(work, `${name}.tar`);
      const written = await writeDockerArchive({
        out,
        layers: layerTars.map((tar) => ({ tar })),
        compression,
        repoTag: 'vigil-test/writer:1',
      });
      const diffIds = layerTars.map(sha256sum);

      // the outer tar: layers, then the config, then manifest.json (as docker save orders them)
      const listing = execFileSync('tar', ['-tf', out]).toString().trim().split('\n');
      expect(listing).toEqual([
        `0/${file}`,
        `1/${file}`,
        `${written.configDigest.slice(7)}.json`,
        'manifest.json',
      ]);

      // stored blobs, extracted with GNU tar and hashed with sha256sum; gunzipped ones must equal the inputs
      const blobs = join(work, `${name}-blobs`);
      await mkdir(blobs);
      execFileSync('tar', ['-xf', out, '-C', blobs]);
      const stored = [0, 1].map((i) => join(blobs, String(i), file));
      const unpacked = stored.map((p) =>
        compression === 'none' ? p : (execFileSync('sh', ['-c', `gzip -dc '${p}' > '${p}.raw'`]), `${p}.raw`),
      );
      expect(unpacked.map(sha256sum)).toEqual(diffIds);
      expect(written.layers.map((l) => [l.diffId, l.digest])).toEqual(
        diffIds.map((d, i) => [d, sha256sum(stored[i]!)]),
      );

      const config = JSON.parse(await readFile(join(blobs, `${written.configDigest.slice(7)}.json`), 'utf8'));
      expect(config).toEqual({
        architecture: 'amd64',
        os: 'linux',
        created: '2024-01-01T00:00:00Z',
        config: {
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          Cmd: ['/bin/bash'],
        },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: [
          { created: '2024-01-01T00:00:00Z', created_by: 'vigil harness layer 0' },
          { created: '2024-01-01T00:00:00Z', created_by: 'vigil harness layer 1' },
        ],
      });

      // skopeo (containers/image) verifies each layer against its diffID while copying
      const layout = join(work, `${name}-oci`);
      execFileSync('skopeo', [
        '--insecure-policy',
        'copy',
        '--quiet',
        `docker-archive:${out}`,
        `oci:${layout}:t`,
      ]);
      const inspected = JSON.parse(
        execFileSync('skopeo', ['inspect', '--config', `oci:${layout}:t`]).toString(),
      );
      expect(inspected.rootfs.diff_ids).toEqual(diffIds);

      const source = await openDockerArchive(out);
      try {
        expect([source.repoTags, source.layers.map((l) => l.diffId)]).toEqual([
          ['vigil-test/writer:1'],
          diffIds,
        ]);
      } finally {
        await source.close();
      }
    },
  );
});

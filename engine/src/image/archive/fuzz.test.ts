/**
 * Mutation fuzzing of the local image sources: every input must either open (and its layer
 * streams end or fail) with coded EngineErrors only, never an uncoded throw or a hang.
 */
import { readFile, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import type { ImageSource } from '../types.js';
import { openDockerArchive } from './docker-archive.js';
import { parseDockerManifest } from './docker-manifest.js';
import { validateImageConfig } from './image-config.js';
import { openOciLayout } from './oci-layout.js';
import { parseImageManifest, parseIndex } from './oci-manifest.js';
import { handDockerArchive, ociImage, sha256 } from './testdata/helpers.js';
import { tar } from './testdata/tar-writer.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vigil-archive-fuzz-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Opens, drains every layer, closes; any failure must be an EngineError. */
async function exercise(open: () => Promise<ImageSource>): Promise<void> {
  const source = await open();
  try {
    for (const layer of source.layers) {
      try {
        for await (const _chunk of await layer.open()) {
          // drain
        }
      } catch (error) {
        if (!isEngineError(error)) throw error;
      }
    }
  } finally {
    await source.close();
  }
}

function ociLayoutTar(): Buffer {
  const image = ociImage([{ 'etc/a': 'a' }, { 'etc/b': 'b' }], {
    annotations: { 'org.opencontainers.image.ref.name': 'latest' },
  });
  return tar([
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests: [image.descriptor] }) },
    ...image.blobs.map((b) => ({ name: `blobs/sha256/${sha256(b).slice(7)}`, body: b })),
  ]);
}

const coded = (e: unknown) => isEngineError(e);

let fileNo = 0;
/** Runs `fn` on `input` written to a fresh file (rewriting one file in place is slow on ext4: truncate forces a flush). */
async function withFile(input: Buffer, fn: (path: string) => Promise<void>): Promise<void> {
  const path = join(work, `input-${fileNo++}`);
  await writeFile(path, input);
  try {
    await fn(path);
  } finally {
    await unlink(path);
  }
}

describe('fuzzing local image sources', () => {
  it('openDockerArchive: 10,000 mutated archives, only coded errors', async () => {
    const seeds = [
      handDockerArchive([
        { tags: ['a:1'], layers: [{ 'etc/a': 'a' }, { 'etc/b': 'b' }] },
        { tags: ['b:1'], layers: [] },
      ]),
    ];
    if (hasRealdata) {
      seeds.push(await readFile(realdata('images/docker-archive/cimage-almostempty-docker-save.tar')));
      seeds.push(await readFile(realdata('images/oci-archive/ggcr-hello-world-docker-v25-save.tar')));
    }
    const failures = await fuzz(
      seeds,
      10_000,
      (input) => withFile(input, (path) => exercise(() => openDockerArchive(path, { tmpDir: work }))),
      {
        allowed: coded,
      },
    );
    expect(failures).toEqual([]);
  });

  it('openOciLayout (tar): 10,000 mutated layout tars, only coded errors', async () => {
    const seeds = [ociLayoutTar()];
    if (hasRealdata)
      seeds.push(await readFile(realdata('images/oci-archive/ggcr-hello-world-docker-v25-save.tar')));
    const failures = await fuzz(
      seeds,
      10_000,
      (input) => withFile(input, (path) => exercise(() => openOciLayout(path, { tmpDir: work }))),
      {
        allowed: coded,
        seed: 2,
      },
    );
    expect(failures).toEqual([]);
  });

  it('3,000 valid tars each with a mutated manifest.json / index.json, only coded errors', async () => {
    const manifestSeed = Buffer.from(
      JSON.stringify([{ Config: 'c.json', RepoTags: ['a:1'], Layers: ['img0-layer0/layer.tar'] }]),
    );
    const dockerFailures = await fuzz(
      [manifestSeed],
      1_500,
      (json) => {
        const archive = handDockerArchive([{ tags: ['a:1'], layers: [{ 'etc/a': 'a' }] }], (entries) =>
          entries.push({ name: 'manifest.json', body: json }),
        );
        return withFile(archive, (path) => exercise(() => openDockerArchive(path)));
      },
      { allowed: coded, seed: 3 },
    );
    const image = ociImage([{ 'etc/a': 'a' }], {
      platform: { os: 'linux', architecture: 'amd64' },
      annotations: { 'org.opencontainers.image.ref.name': 'x' },
    });
    const indexSeed = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [image.descriptor] }));
    const ociFailures = await fuzz(
      [indexSeed],
      1_500,
      (json) => {
        const layout = tar([
          { name: 'oci-layout', body: '{}' },
          { name: 'index.json', body: json },
          ...image.blobs.map((b) => ({ name: `blobs/sha256/${sha256(b).slice(7)}`, body: b })),
        ]);
        return withFile(layout, (path) => exercise(() => openOciLayout(path)));
      },
      { allowed: coded, seed: 4 },
    );
    expect([dockerFailures, ociFailures]).toEqual([[], []]);
  });

  it('JSON parsers (manifest.json, index, manifest, config): 10,000 mutated documents each', async () => {
    const image = ociImage([{ a: 'a' }], { platform: { os: 'linux', architecture: 'amd64' } });
    const seeds = [
      Buffer.from(
        JSON.stringify([
          {
            Config: 'c.json',
            RepoTags: ['a:1'],
            Layers: ['l/layer.tar'],
            LayerSources: { [sha256('x')]: { digest: sha256('y'), mediaType: 'x', size: 1 } },
          },
        ]),
      ),
      Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [image.descriptor] })),
      image.manifest,
      image.blobs[0]!,
    ];
    if (hasRealdata) {
      for (const rel of [
        'images/manifests/cimage-oci-image-index.json',
        'images/manifests/cimage-oci-image-manifest.json',
        'images/manifests/cimage-docker-v2s2-manifest.json',
        'images/configs/stereoscope-docker-engine-image-config.json',
      ]) {
        seeds.push(await readFile(realdata(rel)));
      }
    }
    const parsers: ((v: unknown) => unknown)[] = [
      (v) => parseDockerManifest(v, 'fuzz'),
      (v) => parseIndex(v, 'fuzz'),
      (v) => parseImageManifest(v, '', 'fuzz'),
      (v) => validateImageConfig(v, 'fuzz', 1),
    ];
    for (const parse of parsers) {
      const failures = await fuzz(
        seeds,
        10_000,
        (input) => {
          let value: unknown;
          try {
            value = JSON.parse(input.toString('utf8'));
          } catch {
            return; // not JSON: readJson turns that into a coded error before parsers run
          }
          parse(value);
        },
        { allowed: coded },
      );
      expect(failures).toEqual([]);
    }
  });
});

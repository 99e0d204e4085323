/**
 * Scenario: one three-layer image built with umoci from our own content (fixtures/layered-image.ts
 * explains every expected entry), scanned as an OCI layout directory, an OCI archive, a
 * docker-archive written by skopeo and the same gzipped. Every form must give the golden
 * inventory, with the introducing layer of each package.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOciLayout,
  gzipFile,
  makeTempDir,
  removeTemp,
  toDockerArchive,
  toOciArchive,
} from '../../test/harness/images.js';
import { FsLayerCache } from '../src/cache/fs-layer-cache.js';
import { scanImage } from '../src/scan/scan-image.js';
import type { StackInventory } from '../src/cache/types.js';
import type { ScanResult } from '../src/model/index.js';
import { LAYERED_IMAGE } from './fixtures/layered-image.js';
import { normalizeScan, type NormalInventory } from './support/inventory.js';

const golden = JSON.parse(
  await readFile(new URL('./golden/layered-image.json', import.meta.url), 'utf8'),
) as NormalInventory;

describe('layered image built with umoci, in every local format', () => {
  const inputs: Record<string, string> = {};
  let layout = '';

  beforeAll(async () => {
    layout = await buildOciLayout(LAYERED_IMAGE);
    inputs['oci-layout dir'] = layout;
    inputs['oci-archive tar'] = await toOciArchive(layout);
    inputs['docker-archive'] = await toDockerArchive(layout, 'vigil-test/layered:1');
    inputs['docker-archive.gz'] = await gzipFile(inputs['docker-archive']!);
  });
  afterAll(() => removeTemp(layout));

  it('gives the golden inventory and introducing layers from each form', async () => {
    const scans: Record<string, ScanResult> = {};
    for (const [form, input] of Object.entries(inputs)) scans[form] = await scanImage({ input });
    const normal = Object.fromEntries(Object.entries(scans).map(([form, s]) => [form, normalizeScan(s)]));
    expect(normal).toEqual({
      'oci-layout dir': golden,
      'oci-archive tar': golden,
      'docker-archive': golden,
      'docker-archive.gz': golden,
    });
    // same three layers (by diffID) whatever the container format
    const diffIds = Object.values(scans).map((s) => s.artifact.layers?.map((l) => l.diffId));
    expect(diffIds[0]).toHaveLength(3);
    for (const d of diffIds) expect(d).toEqual(diffIds[0]);
    expect(Object.values(scans).map((s) => s.artifact.kind)).toEqual([
      'oci-layout',
      'oci-layout',
      'docker-archive',
      'docker-archive',
    ]);
    // purls carry the distro picked from os-release
    expect(scans['docker-archive']!.packages.map((p) => p.purl)).toEqual([
      'pkg:apk/alpine/busybox@1.36.1-r7?arch=x86_64&distro=alpine-3.19.1',
      'pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1',
      'pkg:apk/alpine/npm@10.2.5-r0?arch=x86_64&distro=alpine-3.19.1',
      'pkg:npm/%40types/node@20.10.5',
      'pkg:npm/express@4.18.2',
      'pkg:pypi/click@8.1.7',
      'pkg:pypi/urllib3@2.1.0',
    ]);
  });

  it('gives the same inventory again from a layer cache', async () => {
    const dir = await makeTempDir();
    try {
      const cache = new FsLayerCache({ dir });
      const events: boolean[] = [];
      const onEvent = (e: { type: string; cached?: boolean }) => {
        if (e.type === 'layer-done') events.push(e.cached === true);
      };
      const first = await scanImage({ input: inputs['docker-archive']! }, { cache, onEvent });
      // the OCI archive has the same diffIDs: every layer comes from the cache
      const second = await scanImage({ input: inputs['oci-archive tar']! }, { cache, onEvent });
      expect([normalizeScan(first), normalizeScan(second)]).toEqual([golden, golden]);
      expect(events).toEqual([false, false, false, true, true, true]);
    } finally {
      await removeTemp(dir);
    }
  });

  it("answers a known layer stack from its merged inventory, and only when the entry's layers are the image's", async () => {
    const dir = await makeTempDir();
    try {
      const cache = new FsLayerCache({ dir });
      const first = await scanImage({ input: inputs['docker-archive']! }, { cache });
      const [stackFile] = (await readdir(dir)).filter((n) => n.endsWith('.stack.v2.json'));
      const path = join(dir, stackFile!);
      const stack = JSON.parse(await readFile(path, 'utf8')) as StackInventory;
      expect({
        diffIds: stack.diffIds,
        layerFiles: stack.layerFiles.length,
        packages: stack.packages.map((p) => p.purl),
      }).toEqual({
        diffIds: first.artifact.layers!.map((l) => l.diffId),
        layerFiles: 3,
        packages: first.packages.map((p) => p.purl),
      });
      // the entry is what a rescan reports: a marked package shows it was read, not merged again
      const marked: StackInventory = {
        ...stack,
        packages: stack.packages.map((p) => ({ ...p, license: 'marked' })),
      };
      await writeFile(path, JSON.stringify(marked));
      const fromStack = await scanImage({ input: inputs['oci-archive tar']! }, { cache });
      expect(fromStack.packages.map((p) => p.license)).toEqual(first.packages.map(() => 'marked'));
      // an entry that names other layers (a damaged or colliding file) is not used: the layers are merged again
      await writeFile(path, JSON.stringify({ ...marked, diffIds: [...stack.diffIds].reverse() }));
      const merged = await scanImage({ input: inputs['oci-layout dir']! }, { cache });
      expect(normalizeScan(merged)).toEqual(golden);
      expect(merged.packages.some((p) => p.license === 'marked')).toBe(false);
      // nor is one without the lists a result needs: no crash, the layers are merged again
      const { packages: _dropped, ...broken } = marked;
      await writeFile(path, JSON.stringify(broken));
      expect(normalizeScan(await scanImage({ input: inputs['docker-archive']! }, { cache }))).toEqual(golden);
    } finally {
      await removeTemp(dir);
    }
  });
});

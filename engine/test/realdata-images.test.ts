/**
 * Scenario: the real images of the realdata set (PROVENANCE.md, images/).
 * - alpine 3.11 `docker save` (gzipped, one layer): the packages must be exactly those of the
 *   image's lib/apk/db/installed, read here with the system `tar` and a plain line split,
 *   independent of Vigil's apk parser; the OS version is the image's etc/alpine-release.
 * - hello-world as an OCI layout (trivy) and as a Docker 25 save (ggcr), and the Docker 1.13
 *   almost-empty image (containers/image): one layer each holding a static binary or an empty
 *   file, so no OS, no packages, no unknowns.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTemp } from '../../test/harness/images.js';
import { hasRealdata, realdata } from '../../test/support/realdata.js';
import { scanImage } from '../src/scan/scan-image.js';
import { normalizeScan, type NormalPackage } from './support/inventory.js';

/** Packages of an apk installed db by plain line splitting: P name, V version, o origin. */
function apkOracle(text: string): NormalPackage[] {
  const out: NormalPackage[] = [];
  for (const stanza of text.split('\n\n')) {
    const field = (k: string) =>
      stanza
        .split('\n')
        .find((l) => l.startsWith(`${k}:`))
        ?.slice(2);
    const name = field('P');
    if (!name) continue;
    out.push({
      ecosystem: 'apk',
      name,
      version: field('V')!,
      srcName: field('o') ?? name,
      path: 'lib/apk/db/installed',
      layer: 0,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

describe.skipIf(!hasRealdata)('realdata images', () => {
  let work = '';
  beforeAll(async () => {
    work = await makeTempDir();
  });
  afterAll(() => removeTemp(work));

  it('alpine 3.11 docker-archive: exactly the packages of its apk db, os from alpine-release', async () => {
    const archive = realdata('images/docker-archive/trivy-alpine-3.11-docker-save.tar.gz');
    execFileSync('tar', ['-xzf', archive, '-C', work]);
    const manifest = JSON.parse(await readFile(join(work, 'manifest.json'), 'utf8')) as {
      Layers: string[];
    }[];
    expect(manifest[0]!.Layers).toHaveLength(1);
    const rootfs = join(work, 'rootfs');
    await mkdir(rootfs);
    execFileSync('tar', [
      '-xf',
      join(work, manifest[0]!.Layers[0]!),
      '-C',
      rootfs,
      'lib/apk/db/installed',
      'etc/alpine-release',
    ]);
    const expected = apkOracle(await readFile(join(rootfs, 'lib/apk/db/installed'), 'utf8'));
    const release = (await readFile(join(rootfs, 'etc/alpine-release'), 'utf8')).trim();
    expect(release).toMatch(/^3\.11\.\d+$/);
    expect(expected.length).toBeGreaterThan(10);

    const scan = await scanImage({ input: archive });
    expect(normalizeScan(scan)).toEqual({
      os: { family: 'alpine', version: release },
      packages: expected,
      unknowns: [],
      status: 'succeeded',
    });
  });

  it.each([
    ['hello-world OCI layout', 'images/oci-layout/trivy-hello-world-oci'],
    ['hello-world Docker 25 save', 'images/oci-archive/ggcr-hello-world-docker-v25-save.tar'],
    ['almost-empty Docker 1.13 save', 'images/docker-archive/cimage-almostempty-docker-save.tar'],
  ])('%s: no OS, no packages, no unknowns', async (_name, rel) => {
    const scan = await scanImage({ input: realdata(rel) });
    expect({ layers: scan.artifact.layers?.length, ...normalizeScan(scan) }).toEqual({
      layers: 1,
      packages: [],
      unknowns: [],
      status: 'succeeded',
    });
  });
});

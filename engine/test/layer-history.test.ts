/**
 * Scenario: what a package's introducing layer is, and what survives, when package databases are
 * deleted, re-created or emptied by upper layers (umoci layers; the content is ours):
 * - layer 0 installs musl and busybox (apk) and libc6 (dpkg); layer 1 deletes the apk db (a
 *   whiteout); layer 2 writes a new apk db holding only musl. musl was absent in layer 1, so
 *   layer 2 introduced it; busybox is gone; libc6 stays from layer 0.
 * - layer 0 installs musl (apk) and libc6 (dpkg); layer 1 overwrites both databases with empty
 *   files (a known way to hide packages from scanners). The merged filesystem holds empty
 *   databases, so no package is reported, and no unknown (an empty db is valid).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildOciLayout, removeTemp, toDockerArchive } from '../../test/harness/images.js';
import { scanImage } from '../src/scan/scan-image.js';
import { normalizeScan } from './support/inventory.js';

const apk = (...pkgs: [string, string][]) =>
  pkgs.map(([name, version]) => `P:${name}\nV:${version}\nA:x86_64\no:${name}\n`).join('\n');
const DPKG =
  'Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n';
const APK_PATH = 'lib/apk/db/installed';
const DPKG_PATH = 'var/lib/dpkg/status';

describe('package databases deleted, re-created and emptied by upper layers', () => {
  const temps: string[] = [];
  afterAll(() => removeTemp(...temps));

  it('a db deleted and re-created: its packages are introduced by the re-creating layer', async () => {
    const layout = await buildOciLayout({
      files: { [APK_PATH]: apk(['musl', '1.2.4-r2'], ['busybox', '1.36.1-r5']), [DPKG_PATH]: DPKG },
      layers: [{ delete: [APK_PATH] }, { files: { [APK_PATH]: apk(['musl', '1.2.4-r2']) } }],
    });
    temps.push(layout);
    const scan = await scanImage({ input: await toDockerArchive(layout) });
    expect(normalizeScan(scan)).toEqual({
      packages: [
        { ecosystem: 'apk', name: 'musl', version: '1.2.4-r2', srcName: 'musl', path: APK_PATH, layer: 2 },
        {
          ecosystem: 'deb',
          name: 'libc6',
          version: '2.36-9+deb12u4',
          srcName: 'glibc',
          path: DPKG_PATH,
          layer: 0,
        },
      ],
      unknowns: [],
      status: 'succeeded',
    });
  });

  it('dbs emptied by an upper layer hide the lower packages', async () => {
    const layout = await buildOciLayout({
      files: { [APK_PATH]: apk(['musl', '1.2.4-r2']), [DPKG_PATH]: DPKG },
      layers: [{ files: { [APK_PATH]: '', [DPKG_PATH]: '' } }],
    });
    temps.push(layout);
    const scan = await scanImage({ input: layout });
    expect(normalizeScan(scan)).toEqual({ packages: [], unknowns: [], status: 'succeeded' });
  });
});

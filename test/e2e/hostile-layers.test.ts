/**
 * Scenario: hostile layers inside real archives.
 * - A layer whose bytes are not a tar, appended with `umoci raw add-layer` (umoci gzips what it is
 *   given without looking), scanned as the OCI layout and as skopeo's docker-archive of it.
 * - A truncated gzip layer in a docker-archive (test/harness/docker-archive-writer.ts stores the
 *   cut blob as is; compressed docker-archive layers carry no digest to verify it against).
 * Both: the scan completes, `status: partial`, one unknown `layer:<diffID>` (ENG_LAYER_CORRUPT),
 * the packages of the intact layers kept, and of the truncated layer those before the cut.
 * - A blob cut short while its manifest still names the full digest: a coded failure
 *   (ENG_DIGEST_MISMATCH, exit 7), since the stored bytes are not the image's.
 * - Decompression bombs: 64 MiB of zeros (a 64 KiB gzip) stopped by `--max-image-size`, per layer
 *   and summed over layers, as coded errors with exit code 7.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanImage } from '../../engine/src/scan/scan-image.js';
import type { ScanResult } from '../../engine/src/model/index.js';
import { normalizeScan } from '../../engine/test/support/inventory.js';
import { writeDockerArchive } from '../harness/docker-archive-writer.js';
import { buildOciLayout, makeTempDir, removeTemp, toDockerArchive } from '../harness/images.js';
import { runVigil } from '../support/cli.js';

const OS_RELEASE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n';
const APK_DB = 'P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n';
const pkgJson = (name: string, version: string) => JSON.stringify({ name, version });

/** A tar (tar-stream, GNU-compatible ustar) of the given entries, in order. */
async function makeTar(entries: [name: string, body: Buffer | string][]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', resolve));
  for (const [name, body] of entries) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const layerUnknown = (diffId: string) => ({
  path: `layer:${diffId}`,
  layer: 1,
  source: 'walk',
});
const BASE_PACKAGES = [
  {
    ecosystem: 'apk',
    name: 'musl',
    version: '1.2.4-r2',
    srcName: 'musl',
    path: 'lib/apk/db/installed',
    layer: 0,
  },
];

describe('hostile layers inside real archives', () => {
  let work = '';
  beforeAll(async () => {
    work = await makeTempDir();
  });
  afterAll(() => removeTemp(work));

  it('a layer that is not a tar (umoci OCI layout and its skopeo docker-archive): partial, unknown names the layer', async () => {
    const junk = join(work, 'junk.bin');
    await writeFile(junk, randomBytes(3000));
    const layout = await buildOciLayout({
      dir: join(work, 'junk-layout'),
      files: { 'etc/os-release': OS_RELEASE, 'lib/apk/db/installed': APK_DB },
      layers: [{ tarFile: junk }],
    });
    const archive = await toDockerArchive(layout, 'vigil-test/junk:1', {
      out: join(work, 'junk-docker.tar'),
    });
    const scans: ScanResult[] = [await scanImage({ input: layout }), await scanImage({ input: archive })];
    const junkDiffId = sha256(await readFile(junk));
    const expected = {
      os: { family: 'alpine', version: '3.19.1' },
      packages: BASE_PACKAGES,
      unknowns: [layerUnknown(junkDiffId)],
      status: 'partial',
    };
    expect(scans.map(normalizeScan)).toEqual([expected, expected]);
    for (const s of scans) expect(s.unknowns[0]?.message).toMatch(/^ENG_LAYER_CORRUPT: /);
  });

  it("a layer blob cut short behind the manifest's back (OCI layout): coded ENG_DIGEST_MISMATCH, not partial", async () => {
    // the manifest still promises the full blob: the stored bytes are no longer what the image
    // is, so the scan fails as a whole instead of reporting a partial inventory
    const layout = await buildOciLayout({
      dir: join(work, 'cut-layout'),
      files: { 'etc/os-release': OS_RELEASE },
      layers: [{ files: { 'lib/apk/db/installed': APK_DB, 'app/filler.bin': randomBytes(64 * 1024) } }],
    });
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
    const manifest = JSON.parse(await readFile(blob(index.manifests[0]!.digest), 'utf8')) as {
      layers: { digest: string }[];
    };
    const top = blob(manifest.layers[1]!.digest);
    const bytes = await readFile(top);
    await writeFile(top, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(scanImage({ input: layout })).rejects.toMatchObject({ code: 'ENG_DIGEST_MISMATCH' });
    const run = await runVigil(['image', '--input', layout, '-f', 'json', '--no-cache', '-q']);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 7, stdout: '' });
    expect(run.stderr).toMatch(/^vigil: ENG_DIGEST_MISMATCH: /);
  });

  describe('a truncated gzip layer in a docker-archive', () => {
    let archive = '';
    let cutDiffId = '';
    beforeAll(async () => {
      const base = await makeTar([
        ['etc/os-release', OS_RELEASE],
        ['lib/apk/db/installed', APK_DB],
      ]);
      // early package, 256 KiB of incompressible filler, late package; the gzip is cut in half,
      // inside the filler: early is read, late never arrives
      const full = gzipSync(
        await makeTar([
          ['app/node_modules/early/package.json', pkgJson('early', '1.0.0')],
          ['app/filler.bin', randomBytes(256 * 1024)],
          ['app/node_modules/late/package.json', pkgJson('late', '2.0.0')],
        ]),
      );
      const cut = full.subarray(0, Math.floor(full.length / 2));
      cutDiffId = sha256(cut); // stored as is: the writer's "diffID" is the hash of these bytes
      await writeFile(join(work, 'base.tar'), base);
      await writeFile(join(work, 'cut.tar.gz'), cut);
      archive = join(work, 'truncated.tar');
      await writeDockerArchive({
        out: archive,
        layers: [{ tar: join(work, 'base.tar') }, { tar: join(work, 'cut.tar.gz') }],
        compression: 'none',
      });
    });

    it('keeps what precedes the cut; the layer gets an unknown', async () => {
      const scan = await scanImage({ input: archive });
      expect(normalizeScan(scan)).toEqual({
        os: { family: 'alpine', version: '3.19.1' },
        packages: [
          ...BASE_PACKAGES,
          {
            ecosystem: 'npm',
            name: 'early',
            version: '1.0.0',
            path: 'app/node_modules/early/package.json',
            layer: 1,
          },
        ],
        unknowns: [layerUnknown(cutDiffId)],
        status: 'partial',
      });
      expect(scan.unknowns[0]?.message).toMatch(/^ENG_LAYER_CORRUPT: .*unexpected end of file/);
    });

    it('vigil image --input: exit 0, JSON status partial with the layer unknown', async () => {
      const run = await runVigil(['image', '--input', archive, '-f', 'json', '--no-cache', '--quiet']);
      const report = JSON.parse(run.stdout) as {
        status: string;
        packages: { name: string }[];
        unknowns: { path: string; message: string }[];
      };
      expect({
        code: run.code,
        status: report.status,
        packages: report.packages.map((p) => p.name),
        unknowns: report.unknowns.map((u) => u.path),
      }).toEqual({
        code: 0,
        status: 'partial',
        packages: ['musl', 'early'],
        unknowns: [`layer:${cutDiffId}`],
      });
    });
  });

  describe('decompression bombs and --max-image-size', () => {
    let one = '';
    let two = '';
    beforeAll(async () => {
      const bomb = (name: string) =>
        makeTar([[name, Buffer.alloc(64 * 1024 * 1024)]]).then((t) => gzipSync(t, { level: 9 }));
      await writeFile(join(work, 'bomb-a.tar.gz'), await bomb('var/tmp/zeros-a'));
      await writeFile(join(work, 'bomb-b.tar.gz'), await bomb('var/tmp/zeros-b'));
      await writeFile(join(work, 'base.tar'), await makeTar([['lib/apk/db/installed', APK_DB]]));
      one = join(work, 'bomb-one.tar');
      two = join(work, 'bomb-two.tar');
      await writeDockerArchive({
        out: one,
        layers: [{ tar: join(work, 'base.tar') }, { tar: join(work, 'bomb-a.tar.gz') }],
        compression: 'none',
      });
      await writeDockerArchive({
        out: two,
        layers: [{ tar: join(work, 'bomb-a.tar.gz') }, { tar: join(work, 'bomb-b.tar.gz') }],
        compression: 'none',
      });
    });

    it('one 64 MiB layer against --max-image-size 16MiB: ENG_LAYER_TOO_LARGE, exit 7', async () => {
      const run = await runVigil([
        'image',
        '--input',
        one,
        '-f',
        'json',
        '--no-cache',
        '-q',
        '--max-image-size',
        '16MiB',
      ]);
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 7, stdout: '' });
      expect(run.stderr).toMatch(
        /^vigil: ENG_LAYER_TOO_LARGE: layer sha256:[0-9a-f]{64} expands past 16777216 bytes/,
      );
    });

    it('two 64 MiB layers against --max-image-size 100MiB: each fits, the sum does not (ENG_IMAGE_TOO_LARGE)', async () => {
      const run = await runVigil([
        'image',
        '--input',
        two,
        '-f',
        'json',
        '--no-cache',
        '-q',
        '--max-image-size',
        '100MiB',
      ]);
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 7, stdout: '' });
      expect(run.stderr).toMatch(/^vigil: ENG_IMAGE_TOO_LARGE: image expands past 104857600 bytes/);
      // without the limit the same image scans: the limit is what stopped it
      const scan = await scanImage({ input: two });
      expect({ status: scan.status, packages: scan.packages, unknowns: scan.unknowns }).toEqual({
        status: 'succeeded',
        packages: [],
        unknowns: [],
      });
    });

    it('scanImage limits: a coded ENG_IMAGE_TOO_LARGE rejection, not a crash', async () => {
      await expect(
        scanImage({ input: two }, { limits: { maxImageBytes: 100 * 1024 * 1024 } }),
      ).rejects.toMatchObject({
        code: 'ENG_IMAGE_TOO_LARGE',
      });
      await expect(
        scanImage({ input: one }, { limits: { maxLayerBytes: 16 * 1024 * 1024 } }),
      ).rejects.toMatchObject({
        code: 'ENG_LAYER_TOO_LARGE',
      });
    });
  });
});

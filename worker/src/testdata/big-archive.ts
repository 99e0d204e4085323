/**
 * Test image: a docker-archive whose layers each hold one large file of zeros (gzip makes the archive
 * tiny, the walk still inflates every byte), for scans that take long enough to be cancelled during
 * the layer walk. Written once into `dir`.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack } from 'tar-stream';
import { writeDockerArchive } from '../../../test/harness/docker-archive-writer.js';

async function zeroLayerTar(path: string, bytes: number): Promise<void> {
  const pack = tarPack();
  const written = pipeline(pack, createWriteStream(path));
  const entry = pack.entry({ name: 'data/zeros.bin', size: bytes, mode: 0o644, mtime: new Date(0) });
  const block = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= block.length) {
    if (!entry.write(left >= block.length ? block : block.subarray(0, left))) {
      await new Promise((resolve) => entry.once('drain', resolve));
    }
  }
  entry.end();
  pack.finalize();
  await written;
}

/** Writes `<dir>/big.tar`: `layers` layers of `layerBytes` zeros each, gzip level 1. */
export async function writeBigArchive(dir: string, layers: number, layerBytes: number): Promise<string> {
  const tar = join(dir, 'zeros-layer.tar');
  await zeroLayerTar(tar, layerBytes);
  const out = join(dir, 'big.tar');
  await writeDockerArchive({
    out,
    layers: Array.from({ length: layers }, (_, i) => ({ tar, createdBy: `zeros ${i}` })),
    compression: { gzipLevel: 1 },
    repoTag: 'vigil-test/zeros:latest',
  });
  await rm(tar);
  return out;
}

/**
 * Layer decompression by content sniffing: gzip (1f 8b), zstd (28 b5 2f fd) or plain tar.
 * Media types lie often enough (docker-archive layers carry none), so the magic bytes decide.
 */
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type * as Zstd from 'zstd-napi';
import { EngineError } from '../../errors.js';
import { lazyRequire } from '../../lazy-require.js';

/** zstd-napi and its native addon load with the first zstd layer (docker layers are gzip). */
const zstd = lazyRequire<typeof Zstd>('zstd-napi');

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** Detects the compression of a blob from its first bytes. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
    return 'zstd';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (
    head.length >= 6 &&
    head[0] === 0xfd &&
    head[1] === 0x37 &&
    head[2] === 0x7a &&
    head[3] === 0x58 &&
    head[4] === 0x5a &&
    head[5] === 0
  ) {
    return 'xz';
  }
  return 'none';
}

/** Reads at least `n` bytes (or until the end) from a paused stream without consuming them. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  for (;;) {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= n) break;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    const done = await new Promise<boolean>((resolve, reject) => {
      const cleanup = () => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('error', onError);
      };
      const onReadable = () => (cleanup(), resolve(false));
      const onEnd = () => (cleanup(), resolve(true));
      const onError = (e: Error) => (cleanup(), reject(e));
      stream.once('readable', onReadable);
      stream.once('end', onEnd);
      stream.once('error', onError);
    });
    if (done) break;
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) stream.unshift(head);
  return head;
}

/**
 * Returns the decompressed byte stream of a layer blob and the compression found.
 * Errors of the source stream (e.g. a digest mismatch) are forwarded to the returned stream.
 */
export async function decompressLayer(
  blob: Readable,
): Promise<{ stream: Readable; compression: Compression }> {
  const head = await peek(blob, 6);
  const compression = sniffCompression(head);
  if (compression === 'bzip2' || compression === 'xz') {
    blob.destroy();
    throw new EngineError(
      'ENG_LAYER_COMPRESSION_UNSUPPORTED',
      `${compression} layers are not supported (OCI layers are gzip, zstd or plain tar)`,
    );
  }
  let out: Readable;
  if (compression === 'gzip') out = blob.pipe(createGunzip({ chunkSize: 256 * 1024 }));
  else if (compression === 'zstd') out = blob.pipe(new (zstd().DecompressStream)());
  else out = blob.pipe(new PassThrough({ highWaterMark: 256 * 1024 }));
  blob.on('error', (e) => out.destroy(e));
  out.on('error', () => {
    // make sure the source stops when decompression fails
    if (!blob.destroyed) blob.destroy();
  });
  return { stream: out, compression };
}

/** Maps a low-level decompression or tar error to a coded layer error. */
export function layerError(e: unknown, what: string): EngineError {
  const message = e instanceof Error ? e.message : String(e);
  return new EngineError('ENG_LAYER_CORRUPT', `${what}: ${message}`, { cause: e });
}

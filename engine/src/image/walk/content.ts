/**
 * FileContent implementations used by walks: in-memory buffers, spooled temp files and
 * files on disk (directory scans).
 */
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import type { FileContent } from '../../analyzers/types.js';

/** A FileContent over a file on disk. `readAt` opens the file per call; fine for the few reads analyzers make. */
export function diskContent(path: string, size: number): FileContent {
  return {
    size,
    async read() {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.allocUnsafe(size);
        let off = 0;
        while (off < size) {
          const { bytesRead } = await fh.read(buf, off, size - off, off);
          if (bytesRead === 0) break;
          off += bytesRead;
        }
        return off === size ? buf : buf.subarray(0, off);
      } finally {
        await fh.close();
      }
    },
    async readAt(offset, length) {
      const len = Math.max(0, Math.min(length, size - offset));
      if (len === 0) return Buffer.alloc(0);
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.allocUnsafe(len);
        const { bytesRead } = await fh.read(buf, 0, len, offset);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
  };
}

/** Reads a stream fully into memory (the caller has checked its size). */
export async function collect(stream: Readable, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const n = Math.min(chunk.length, size - off);
    chunk.copy(buf, off, 0, n);
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/** Writes a stream to a new temp file; returns its path and a remover. */
export async function spool(
  stream: Readable,
  tmpDir: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = join(tmpDir, `vigil-spool-${randomUUID()}`);
  await pipeline(stream, createWriteStream(path));
  return { path, remove: () => rm(path, { force: true }) };
}

/**
 * FileContent over a file on disk: spooled layer entries and directory scans.
 */
import { open } from 'node:fs/promises';
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

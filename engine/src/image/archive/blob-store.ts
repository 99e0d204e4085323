/**
 * Read access to the files of an image archive, whether it is an indexed tar file or a
 * directory (OCI layout). Names are archive paths (see archive-path.ts); a name that is not a
 * regular file inside the archive (absent, unsafe, or a link leaving the directory) is "missing".
 */
import { createReadStream } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { normalizeArchivePath } from './archive-path.js';
import type { TarIndex } from './tar-index.js';

export interface BlobStore {
  /** What to call the archive in messages. */
  readonly label: string;
  /** Size of the regular file at `name`, or undefined when it is missing. */
  size(name: string): Promise<number | undefined>;
  /** Reads the first `length` bytes (fewer when the file is shorter). The file must exist. */
  head(name: string, length: number): Promise<Buffer>;
  /** Reads a whole file (callers check the size first). The file must exist. */
  read(name: string): Promise<Buffer>;
  /** Opens the file as a byte stream. The file must exist. */
  open(name: string): Promise<Readable>;
}

/** A store over a tar file indexed by `indexTar`. */
export function tarBlobStore(index: TarIndex, label: string): BlobStore {
  const entry = (name: string) => {
    const e = index.resolve(name);
    if (!e) throw new Error(`internal: ${name} is not in ${label}`);
    return e;
  };
  const readRange = async (offset: number, length: number) => {
    const fh = await open(index.path, 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  };
  return {
    label,
    size: async (name) => index.resolve(name)?.size,
    head: async (name, length) => {
      const e = entry(name);
      return readRange(e.offset, Math.min(length, e.size));
    },
    read: async (name) => {
      const e = entry(name);
      return readRange(e.offset, e.size);
    },
    open: async (name) => {
      const e = entry(name);
      if (e.size === 0) return Readable.from([]);
      return createReadStream(index.path, { start: e.offset, end: e.offset + e.size - 1 });
    },
  };
}

/** A store over a directory; symlinks are followed only while they stay inside it. */
export async function dirBlobStore(root: string, label: string): Promise<BlobStore> {
  const realRoot = await realpath(root);
  const locate = async (name: string): Promise<{ path: string; size: number } | undefined> => {
    const rel = normalizeArchivePath(name);
    if (rel === undefined) return undefined;
    try {
      const real = await realpath(join(realRoot, rel));
      if (!real.startsWith(realRoot + sep)) return undefined;
      const st = await stat(real);
      return st.isFile() ? { path: real, size: st.size } : undefined;
    } catch {
      return undefined;
    }
  };
  const must = async (name: string) => {
    const found = await locate(name);
    if (!found) throw new Error(`internal: ${name} is not in ${label}`);
    return found.path;
  };
  return {
    label,
    size: async (name) => (await locate(name))?.size,
    head: async (name, length) => {
      const fh = await open(await must(name), 'r');
      try {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    read: async (name) => {
      const fh = await open(await must(name), 'r');
      try {
        return await fh.readFile();
      } finally {
        await fh.close();
      }
    },
    open: async (name) => createReadStream(await must(name)),
  };
}

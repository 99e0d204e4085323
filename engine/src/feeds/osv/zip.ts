/**
 * Minimal zip reader for the OSV exports (all.zip: one JSON file per advisory).
 *
 * Format: PKWARE APPNOTE.TXT (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT) §4.3:
 * the end of central directory record (EOCD, zip64 EOCD + locator when counts or offsets overflow,
 * which the npm export with > 65,535 entries needs), central directory headers, local headers.
 * Entries are read through the central directory (local headers may defer sizes to a data
 * descriptor), one at a time through a read window, inflated with node:zlib (stored and deflate
 * only), and CRC-checked. Memory: the central directory (~80 bytes an entry) plus one entry.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { EngineError, throwIfAborted } from '../../errors.js';

export type ZipItem = { name: string; data: Buffer } | { name: string; error: string };

export interface ZipReadOptions {
  signal?: AbortSignal;
  /** entries larger than this (compressed or not) are reported as errors; default 64 MiB */
  maxEntryBytes?: number;
  /** central directories larger than this are refused; default 512 MiB */
  maxDirectoryBytes?: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const WINDOW = 1 << 20;

const corrupt = (file: string, why: string) =>
  new EngineError('ENG_FEED_FORMAT', `${file}: not a readable zip: ${why}`);

/** True when the bytes start like a zip (a local header, or the EOCD of an empty archive). */
export function looksLikeZip(head: Uint8Array): boolean {
  return (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
  );
}

/**
 * Yields every file entry of the zip at `path` (directories skipped): its bytes, or an error
 * message for an entry that cannot be read (encrypted, unsupported method, too large, bad CRC,
 * broken deflate). Throws ENG_FEED_FORMAT when the archive structure itself is unreadable.
 */
export async function* readZip(path: string, options: ZipReadOptions = {}): AsyncGenerator<ZipItem> {
  const maxEntry = options.maxEntryBytes ?? 64 * 1024 * 1024;
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const reader = new WindowReader(fh, size);
    const dir = await locateDirectory(reader, size, path);
    if (dir.size > (options.maxDirectoryBytes ?? 512 * 1024 * 1024))
      throw corrupt(path, `central directory of ${dir.size} bytes`);
    const cd = await reader.read(dir.offset, dir.size);
    if (cd.length < dir.size) throw corrupt(path, 'central directory past the end of the file');
    let p = 0;
    for (let n = 0; n < dir.entries; n++) {
      throwIfAborted(options.signal);
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL)
        throw corrupt(path, `central directory entry ${n} is damaged`);
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressed = cd.readUInt32LE(p + 20);
      let uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let local = cd.readUInt32LE(p + 42);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cd.length) throw corrupt(path, `central directory entry ${n} runs past the directory`);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      // zip64 extended information (header 0x0001): only the fields whose 32-bit value is 0xFFFFFFFF, in order
      for (let q = p + 46 + nameLen; q + 4 <= p + 46 + nameLen + extraLen;) {
        const tag = cd.readUInt16LE(q);
        const len = cd.readUInt16LE(q + 2);
        if (tag === 1) {
          let r = q + 4;
          const take = () => (r + 8 <= q + 4 + len ? Number(cd.readBigUInt64LE((r += 8) - 8)) : -1);
          if (uncompressed === 0xffffffff) uncompressed = take();
          if (compressed === 0xffffffff) compressed = take();
          if (local === 0xffffffff) local = take();
        }
        q += 4 + len;
      }
      p = end;
      if (name.endsWith('/')) continue;
      if (flags & 1) yield { name, error: 'encrypted entry' };
      else if (method !== 0 && method !== 8)
        yield { name, error: `compression method ${method} is not supported` };
      else if (compressed < 0 || uncompressed < 0 || compressed > maxEntry || uncompressed > maxEntry)
        yield { name, error: `entry too large (${uncompressed} bytes)` };
      else yield await readEntry(reader, { name, method, crc, compressed, uncompressed, local }, maxEntry);
    }
  } finally {
    await fh.close();
  }
}

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressed: number;
  uncompressed: number;
  local: number;
}

async function readEntry(reader: WindowReader, e: Entry, maxEntry: number): Promise<ZipItem> {
  const header = await reader.read(e.local, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL)
    return { name: e.name, error: 'local header missing' };
  const start = e.local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const raw = await reader.read(start, e.compressed);
  if (raw.length < e.compressed) return { name: e.name, error: 'entry data past the end of the file' };
  let data: Buffer;
  try {
    data =
      e.method === 0 ? Buffer.from(raw) : inflateRawSync(raw, { maxOutputLength: Math.max(1, maxEntry) });
  } catch (err) {
    return { name: e.name, error: `cannot inflate: ${(err as Error).message}` };
  }
  if (data.length !== e.uncompressed)
    return { name: e.name, error: `size ${data.length} differs from the directory's ${e.uncompressed}` };
  if (crc32(data) !== e.crc) return { name: e.name, error: 'CRC mismatch' };
  return { name: e.name, data };
}

async function locateDirectory(
  reader: WindowReader,
  size: number,
  file: string,
): Promise<{ entries: number; size: number; offset: number }> {
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = await reader.read(size - tailLen, tailLen);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw corrupt(file, 'no end of central directory record');
  let entries = tail.readUInt16LE(at + 10);
  let dirSize = tail.readUInt32LE(at + 12);
  let offset = tail.readUInt32LE(at + 16);
  if (entries === 0xffff || dirSize === 0xffffffff || offset === 0xffffffff) {
    const eocdPos = size - tailLen + at;
    const locator = await reader.read(eocdPos - 20, 20);
    if (eocdPos < 20 || locator.length < 20 || locator.readUInt32LE(0) !== EOCD64_LOCATOR)
      throw corrupt(file, 'zip64 locator missing');
    const rec = await reader.read(Number(locator.readBigUInt64LE(8)), 56);
    if (rec.length < 56 || rec.readUInt32LE(0) !== EOCD64)
      throw corrupt(file, 'zip64 end of central directory missing');
    entries = Number(rec.readBigUInt64LE(32));
    dirSize = Number(rec.readBigUInt64LE(40));
    offset = Number(rec.readBigUInt64LE(48));
  }
  if (offset + dirSize > size) throw corrupt(file, 'central directory past the end of the file');
  // a directory entry takes at least 46 bytes: a count beyond that is a lie
  if (entries * 46 > dirSize) throw corrupt(file, `${entries} entries cannot fit in ${dirSize} bytes`);
  return { entries, size: dirSize, offset };
}

/** Positional reads through a 1 MiB window: zip entries are mostly read in file order. */
class WindowReader {
  private start = 0;
  private buf = Buffer.alloc(0);
  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  /** Up to `len` bytes at `pos` (fewer at the end of the file). */
  async read(pos: number, len: number): Promise<Buffer> {
    if (pos < 0 || pos >= this.size || len <= 0) return Buffer.alloc(0);
    len = Math.min(len, this.size - pos);
    if (pos >= this.start && pos + len <= this.start + this.buf.length)
      return this.buf.subarray(pos - this.start, pos - this.start + len);
    const want = Math.min(Math.max(len, WINDOW), this.size - pos);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.start = pos;
    this.buf = buf.subarray(0, got);
    return this.buf.subarray(0, Math.min(len, got));
  }
}

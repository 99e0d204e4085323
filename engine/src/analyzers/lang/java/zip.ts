/**
 * A small random-access zip reader: it reads the central directory through `readAt` and
 * inflates only the entries asked for, so a 200 MB fat jar costs its directory plus a few
 * small entries. Stored nested archives are exposed as views over the parent (no copy).
 *
 * Format: PKWARE APPNOTE.TXT 6.3.10 (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT):
 * end of central directory record (4.3.16), zip64 locator and record (4.3.14-15), central
 * directory headers (4.3.12), local headers (4.3.7), zip64 extra field (4.5.3).
 * Like java.util.zip, data prepended to the archive (launch scripts of "fully executable"
 * Spring Boot jars) is tolerated by locating the directory relative to the end record.
 */
import { inflateRawSync } from 'node:zlib';

/** Random access to bytes (FileContent satisfies it). */
export interface ByteSource {
  readonly size: number;
  readAt(offset: number, length: number): Promise<Buffer>;
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated */
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  /** absolute offset of the local header in the source */
  localOffset: number;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  /** size of the central directory in bytes (the cost of listing the archive) */
  directoryBytes: number;
}

/** The archive or one of its entries is malformed or unsupported. */
export class ZipError extends Error {
  override name = 'ZipError';
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
/** Central directories larger than this are refused (100k entries take ~10 MB). */
const MAX_DIRECTORY_BYTES = 64 << 20;

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
}

async function readExact(src: ByteSource, offset: number, length: number, what: string): Promise<Buffer> {
  if (!Number.isFinite(offset) || offset < 0 || offset + length > src.size)
    throw new ZipError(`${what} is outside the file`);
  const buf = await src.readAt(offset, length);
  if (buf.length !== length) throw new ZipError(`${what} is truncated`);
  return buf;
}

/**
 * Lists the entries of a zip archive.
 * @param maxDirectoryBytes largest central directory accepted
 * @throws ZipError when there is no end record, the central directory is inconsistent or too large.
 */
export async function readZipDirectory(
  src: ByteSource,
  maxDirectoryBytes = MAX_DIRECTORY_BYTES,
): Promise<ZipDirectory> {
  const tailStart = Math.max(0, src.size - (22 + 0xffff));
  const tail = await src.readAt(tailStart, src.size - tailStart);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('no end of central directory record (not a zip file)');
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  /** where the central directory must end: the record that follows it */
  let cdEnd = tailStart + eocd;
  if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR_SIG) {
    const declared = u64(tail, eocd - 20 + 8);
    // usually right before the locator; `declared` is off when data was prepended
    const adjacent = tailStart + eocd - 20 - 56;
    for (const at of [declared, adjacent]) {
      if (!Number.isFinite(at) || at < 0 || at + 56 > src.size) continue;
      const rec = await src.readAt(at, 56);
      if (rec.length < 56 || rec.readUInt32LE(0) !== ZIP64_EOCD_SIG) continue;
      cdSize = u64(rec, 40);
      cdOffset = u64(rec, 48);
      cdEnd = at;
      break;
    }
  }
  if (cdSize > maxDirectoryBytes) throw new ZipError(`central directory too large (${cdSize} bytes)`);
  const cdStart = cdEnd - cdSize;
  const delta = cdStart - cdOffset;
  if (cdStart < 0 || delta < 0) throw new ZipError('central directory offset is outside the file');
  const cd = await readExact(src, cdStart, cdSize, 'central directory');
  const entries: ZipEntry[] = [];
  let pos = 0;
  // Entry counts are ignored, as java.util.zip does: some writers store them modulo 65536.
  while (pos + 46 <= cd.length) {
    if (cd.readUInt32LE(pos) !== CDH_SIG)
      throw new ZipError(`bad central directory header at entry ${entries.length}`);
    const flags = cd.readUInt16LE(pos + 8);
    const nameLen = cd.readUInt16LE(pos + 28);
    const extraLen = cd.readUInt16LE(pos + 30);
    const commentLen = cd.readUInt16LE(pos + 32);
    const next = pos + 46 + nameLen + extraLen + commentLen;
    if (next > cd.length) throw new ZipError(`central directory entry ${entries.length} is truncated`);
    const entry: ZipEntry = {
      name: cd.toString(flags & 0x800 ? 'utf8' : 'latin1', pos + 46, pos + 46 + nameLen),
      method: cd.readUInt16LE(pos + 10),
      flags,
      compressedSize: cd.readUInt32LE(pos + 20),
      size: cd.readUInt32LE(pos + 24),
      localOffset: cd.readUInt32LE(pos + 42),
    };
    applyZip64Extra(entry, cd.subarray(pos + 46 + nameLen, pos + 46 + nameLen + extraLen));
    entry.localOffset += delta;
    entries.push(entry);
    pos = next;
  }
  return { entries, directoryBytes: cdSize };
}

/** Replaces 0xffffffff sizes/offsets with their zip64 extra field values (APPNOTE 4.5.3). */
function applyZip64Extra(e: ZipEntry, extra: Buffer): void {
  for (let p = 0; p + 4 <= extra.length;) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const end = Math.min(p + 4 + len, extra.length);
      const take = () => (q + 8 <= end ? u64(extra, (q += 8) - 8) : Infinity);
      if (e.size === 0xffffffff) e.size = take();
      if (e.compressedSize === 0xffffffff) e.compressedSize = take();
      if (e.localOffset === 0xffffffff) e.localOffset = take();
      return;
    }
    p += 4 + len;
  }
}

/** Absolute offset of an entry's data (after its local header). */
async function dataOffset(src: ByteSource, e: ZipEntry): Promise<number> {
  if (e.flags & 1) throw new ZipError('entry is encrypted');
  const lh = await readExact(src, e.localOffset, 30, 'local header');
  if (lh.readUInt32LE(0) !== LFH_SIG) throw new ZipError('bad local header');
  return e.localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
}

/**
 * Reads and inflates one entry.
 * @param max largest uncompressed size accepted
 * @throws ZipError for entries over `max`, encrypted, unsupported methods and corrupt data.
 */
export async function readZipEntry(src: ByteSource, e: ZipEntry, max: number): Promise<Buffer> {
  if (e.size > max) throw new ZipError(`entry is too large (${e.size} bytes)`);
  if (e.method !== 0 && e.method !== 8) throw new ZipError(`unsupported compression method ${e.method}`);
  if (e.method === 0 && e.compressedSize !== e.size) throw new ZipError('stored entry sizes differ');
  // deflate never expands data by more than ~0.03% plus a few bytes
  if (e.compressedSize > e.size + e.size / 64 + 1024) throw new ZipError('compressed size is implausible');
  const data = await readExact(src, await dataOffset(src, e), e.compressedSize, 'entry data');
  if (e.method === 0) return data;
  let out: Buffer;
  try {
    out = inflateRawSync(data, { maxOutputLength: Math.max(1, e.size) });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ZipError(
      code === 'ERR_BUFFER_TOO_LARGE' ? 'inflates beyond its declared size' : 'corrupt deflate data',
    );
  }
  if (out.length !== e.size) throw new ZipError('inflated size differs from the declared size');
  return out;
}

/** A stored (uncompressed) entry as a byte source over the parent, without copying. */
export async function storedEntryView(src: ByteSource, e: ZipEntry): Promise<ByteSource> {
  if (e.method !== 0 || e.compressedSize !== e.size) throw new ZipError('entry is not stored');
  const start = await dataOffset(src, e);
  if (start + e.size > src.size) throw new ZipError('entry data is outside the file');
  return {
    size: e.size,
    readAt: (offset, length) =>
      offset >= e.size || length <= 0
        ? Promise.resolve(Buffer.alloc(0))
        : src.readAt(start + offset, Math.min(length, e.size - offset)),
  };
}

/**
 * Locates and decodes the Go build information blob of an ELF executable: the toolchain
 * version and the module information text (`go version -m`).
 *
 * Format (Go's own reader is the spec): https://go.dev/src/debug/buildinfo/buildinfo.go
 * - The blob is 16-byte aligned, starts with the 14-byte magic "\xff Go buildinf:", then a pointer
 *   size byte and a flags byte (bit 0: big endian, bit 1: strings inline), padded to 32 bytes.
 * - Go ≥ 1.18 (inline): two uvarint-length-prefixed strings follow the header: version, modinfo.
 * - Go < 1.18 (pointers): at offset 16 and 16+ptrSize are virtual addresses of two Go string
 *   headers {data pointer, length}, resolved through the PT_LOAD segments.
 * - The blob lives in the `.go.buildinfo` section, or (no section headers) near the start of the
 *   first writable, non-executable PT_LOAD segment.
 * - modinfo is wrapped in two 16-byte sentinels (cmd/go/internal/modload.ModInfoData).
 */
import {
  PF_W,
  PF_X,
  PT_LOAD,
  findSection,
  readElf,
  readVirtual,
  type ByteSource,
} from '../binary-format/elf.js';

export interface GoBuildInfo {
  /** Toolchain version as recorded, e.g. `go1.22.1` or `go1.22.3 X:boringcrypto`. */
  goVersion: string;
  /** Module information text without its sentinels; empty for binaries built without modules. */
  modinfo: string;
}

/** The blob was found but could not be decoded: the file is a damaged Go binary. */
export class BuildInfoError extends Error {
  override name = 'BuildInfoError';
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const ALIGN = 16;
const HEADER_SIZE = 32;
/** How far into the section / data segment the blob is searched (the linker puts it first). */
const SEARCH_BYTES = 64 * 1024;
/** Longest version or modinfo string accepted (real modinfo: a few hundred KB at most). */
const MAX_STRING = 16 << 20;
const FLAG_BIG_ENDIAN = 1;
const FLAG_INLINE = 2;

/**
 * Reads the build info of a Go ELF binary.
 * @returns `undefined` for non-ELF files and ELF files without a Go build info blob.
 * @throws BuildInfoError when the blob is present but truncated or inconsistent.
 */
export async function readGoBuildInfo(src: ByteSource): Promise<GoBuildInfo | undefined> {
  const elf = await readElf(src);
  if (!elf) return undefined;
  let start: number | undefined;
  let size = 0;
  const section = findSection(elf, '.go.buildinfo');
  if (section && section.offset < src.size) {
    start = section.offset;
    size = section.size;
  } else {
    const data = elf.segments.find((p) => p.type === PT_LOAD && (p.flags & (PF_X | PF_W)) === PF_W);
    if (data) {
      start = data.offset;
      size = data.filesz;
    }
  }
  if (start === undefined || !Number.isFinite(start) || size <= 0) return undefined;
  const window = await src.readAt(start, Math.min(size, SEARCH_BYTES));
  const at = findMagic(window);
  if (at < 0) return undefined;
  const header = window.subarray(at, at + HEADER_SIZE);
  const ptrSize = header[14]!;
  const flags = header[15]!;
  let version: Buffer;
  let mod: Buffer;
  if (flags & FLAG_INLINE) {
    let pos = start + at + HEADER_SIZE;
    [version, pos] = await readInlineString(src, pos);
    [mod] = await readInlineString(src, pos);
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) throw new BuildInfoError(`invalid pointer size ${ptrSize}`);
    const big = (flags & FLAG_BIG_ENDIAN) !== 0;
    const readPtr = (b: Buffer, o: number): number => {
      if (ptrSize === 4) return big ? b.readUInt32BE(o) : b.readUInt32LE(o);
      const v = big ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
    };
    const readString = async (addr: number): Promise<Buffer> => {
      const hdr = await readVirtual(src, elf, addr, 2 * ptrSize);
      if (hdr.length < 2 * ptrSize) throw new BuildInfoError('string header is outside the file');
      const dataAddr = readPtr(hdr, 0);
      const len = readPtr(hdr, ptrSize);
      if (len > MAX_STRING) throw new BuildInfoError(`string too long (${len} bytes)`);
      if (len === 0) return Buffer.alloc(0);
      const data = await readVirtual(src, elf, dataAddr, len);
      if (data.length !== len) throw new BuildInfoError('string is outside the file');
      return data;
    };
    version = await readString(readPtr(header, 16));
    mod = await readString(readPtr(header, 16 + ptrSize));
  }
  // Go's reader calls a blob without a version "not a Go executable".
  if (version.length === 0) return undefined;
  return { goVersion: version.toString('utf8'), modinfo: stripSentinels(mod) };
}

/** Offset of the first 16-byte-aligned magic with a full header after it, or -1. */
function findMagic(window: Buffer): number {
  for (let i = window.indexOf(MAGIC); i >= 0; i = window.indexOf(MAGIC, i + 1)) {
    if (i + HEADER_SIZE > window.length) return -1;
    if (i % ALIGN === 0) return i;
  }
  return -1;
}

/** Reads a uvarint-length-prefixed string at file offset `pos`; returns it and the next offset. */
async function readInlineString(src: ByteSource, pos: number): Promise<[Buffer, number]> {
  const head = await src.readAt(pos, 10);
  let len = 0;
  let i = 0;
  for (let shift = 1; ; shift *= 128, i++) {
    if (i >= head.length) throw new BuildInfoError('truncated string length');
    const b = head[i]!;
    len += (b & 0x7f) * shift;
    if (b < 0x80) break;
  }
  if (len > MAX_STRING) throw new BuildInfoError(`string too long (${len} bytes)`);
  const at = pos + i + 1;
  const data = len === 0 ? Buffer.alloc(0) : await src.readAt(at, len);
  if (data.length !== len) throw new BuildInfoError('truncated string');
  return [data, at + len];
}

/** Removes the 16-byte start/end sentinels; text without them is dropped, as Go does. */
function stripSentinels(mod: Buffer): string {
  if (mod.length >= 33 && mod[mod.length - 17] === 0x0a) return mod.toString('utf8', 16, mod.length - 16);
  return '';
}

/**
 * A minimal, bounds-checked ELF reader over random access (`readAt`): header, program headers
 * and section headers with their names. It never loads the whole file, so a 200 MB binary costs
 * a few kilobytes of reads. Shared by the Go and Rust binary analyzers.
 *
 * Format: System V ABI, "Object Files" (https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html)
 * and "Program Loading" (https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html).
 */

/** Random access to a file's bytes (FileContent satisfies it). */
export interface ByteSource {
  readonly size: number;
  readAt(offset: number, length: number): Promise<Buffer>;
}

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfFile {
  bits: 32 | 64;
  littleEndian: boolean;
  segments: ElfSegment[];
  /** Empty when the section header table is absent or unreadable (e.g. sstrip'ed binaries). */
  sections: ElfSection[];
}

export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
/** SHT_NOBITS: the section occupies no file space (.bss). */
export const SHT_NOBITS = 8;

const ELF_MAGIC = 0x7f454c46;
/** Tables larger than this are treated as corrupt (real binaries have < 100 sections). */
const MAX_TABLE_BYTES = 4 << 20;
const MAX_SHSTRTAB_BYTES = 1 << 20;

/** True when `head` starts with the ELF magic `\x7fELF`. */
export function isElf(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32BE(0) === ELF_MAGIC;
}

/** Reads unsigned integers of the file's width and byte order; `undefined` past the end. */
class Fields {
  constructor(
    readonly buf: Buffer,
    readonly le: boolean,
  ) {}
  u16(at: number): number {
    return this.le ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }
  u32(at: number): number {
    return this.le ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }
  /** 64-bit values above 2^53 cannot be file offsets we can read: they become Infinity. */
  u64(at: number): number {
    const v = this.le ? this.buf.readBigUInt64LE(at) : this.buf.readBigUInt64BE(at);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  }
  word(at: number, bits: 32 | 64): number {
    return bits === 64 ? this.u64(at) : this.u32(at);
  }
}

/**
 * Parses the ELF header and tables. Returns `undefined` for a non-ELF file or one whose header
 * is unusable; a broken section header table yields `sections: []` (segments may still work).
 */
export async function readElf(src: ByteSource): Promise<ElfFile | undefined> {
  const head = await src.readAt(0, 64);
  if (head.length < 52 || !isElf(head)) return undefined;
  const cls = head[4];
  const data = head[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const bits = cls === 2 ? 64 : 32;
  if (bits === 64 && head.length < 64) return undefined;
  const f = new Fields(head, data === 1);
  const phoff = f.word(bits === 64 ? 32 : 28, bits);
  const shoff = f.word(bits === 64 ? 40 : 32, bits);
  const o = bits === 64 ? 54 : 42;
  const phentsize = f.u16(o);
  const phnum = f.u16(o + 2);
  const shentsize = f.u16(o + 4);
  const shnum = f.u16(o + 6);
  const shstrndx = f.u16(o + 8);
  const elf: ElfFile = { bits, littleEndian: f.le, segments: [], sections: [] };
  elf.segments = await readSegments(src, f.le, bits, phoff, phentsize, phnum);
  elf.sections = await readSections(src, f.le, bits, shoff, shentsize, shnum, shstrndx);
  return elf;
}

async function readTable(src: ByteSource, off: number, entsize: number, num: number, minEnt: number) {
  const bytes = entsize * num;
  if (
    num === 0 ||
    entsize < minEnt ||
    bytes > MAX_TABLE_BYTES ||
    !Number.isFinite(off) ||
    off + bytes > src.size
  ) {
    return undefined;
  }
  const buf = await src.readAt(off, bytes);
  return buf.length === bytes ? buf : undefined;
}

async function readSegments(
  src: ByteSource,
  le: boolean,
  bits: 32 | 64,
  off: number,
  entsize: number,
  num: number,
) {
  const buf = await readTable(src, off, entsize, num, bits === 64 ? 56 : 32);
  if (!buf) return [];
  const f = new Fields(buf, le);
  const out: ElfSegment[] = [];
  for (let i = 0; i < num; i++) {
    const b = i * entsize;
    out.push(
      bits === 64
        ? {
            type: f.u32(b),
            flags: f.u32(b + 4),
            offset: f.u64(b + 8),
            vaddr: f.u64(b + 16),
            filesz: f.u64(b + 32),
            memsz: f.u64(b + 40),
          }
        : {
            type: f.u32(b),
            offset: f.u32(b + 4),
            vaddr: f.u32(b + 8),
            filesz: f.u32(b + 16),
            memsz: f.u32(b + 20),
            flags: f.u32(b + 24),
          },
    );
  }
  return out;
}

async function readSections(
  src: ByteSource,
  le: boolean,
  bits: 32 | 64,
  off: number,
  entsize: number,
  num: number,
  strndx: number,
): Promise<ElfSection[]> {
  const minEnt = bits === 64 ? 64 : 40;
  // More than 0xff00 sections: e_shnum is 0 and the count lives in section 0's sh_size,
  // e_shstrndx is SHN_XINDEX and the index lives in section 0's sh_link.
  if ((num === 0 || strndx === 0xffff) && Number.isFinite(off) && off > 0) {
    const first = await readTable(src, off, entsize, 1, minEnt);
    if (!first) return [];
    const f0 = new Fields(first, le);
    if (num === 0) num = f0.word(bits === 64 ? 32 : 20, bits);
    if (strndx === 0xffff) strndx = f0.u32(bits === 64 ? 40 : 24);
  }
  if (!Number.isSafeInteger(num)) return [];
  const buf = await readTable(src, off, entsize, num, minEnt);
  if (!buf) return [];
  const f = new Fields(buf, le);
  const raw: (ElfSection & { nameOff: number })[] = [];
  for (let i = 0; i < num; i++) {
    const b = i * entsize;
    raw.push(
      bits === 64
        ? {
            nameOff: f.u32(b),
            name: '',
            type: f.u32(b + 4),
            flags: f.u64(b + 8),
            addr: f.u64(b + 16),
            offset: f.u64(b + 24),
            size: f.u64(b + 32),
          }
        : {
            nameOff: f.u32(b),
            name: '',
            type: f.u32(b + 4),
            flags: f.u32(b + 8),
            addr: f.u32(b + 12),
            offset: f.u32(b + 16),
            size: f.u32(b + 20),
          },
    );
  }
  const strtab = raw[strndx];
  let names: Buffer | undefined;
  if (
    strtab &&
    strtab.type !== SHT_NOBITS &&
    strtab.size <= MAX_SHSTRTAB_BYTES &&
    strtab.offset + strtab.size <= src.size
  ) {
    names = await src.readAt(strtab.offset, strtab.size);
  }
  return raw.map(({ nameOff, ...s }) => {
    if (names && nameOff < names.length) {
      const end = names.indexOf(0, nameOff);
      s.name = names.toString('latin1', nameOff, end < 0 ? names.length : end);
    }
    return s;
  });
}

/** The first section called `name`, if any. */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/**
 * Reads a section's bytes. Returns `undefined` when the section has no file data, lies outside
 * the file, or is larger than `max` bytes.
 */
export async function readSection(
  src: ByteSource,
  section: ElfSection,
  max: number,
): Promise<Buffer | undefined> {
  if (section.type === SHT_NOBITS || section.size > max || section.offset + section.size > src.size)
    return undefined;
  const buf = await src.readAt(section.offset, section.size);
  return buf.length === section.size ? buf : undefined;
}

/**
 * Reads up to `length` bytes at virtual address `addr` through the PT_LOAD segment that maps it
 * (only file-backed bytes). Returns an empty buffer when no segment maps the address.
 */
export async function readVirtual(
  src: ByteSource,
  elf: ElfFile,
  addr: number,
  length: number,
): Promise<Buffer> {
  for (const p of elf.segments) {
    if (p.type !== PT_LOAD || addr < p.vaddr || addr >= p.vaddr + p.filesz) continue;
    const rel = addr - p.vaddr;
    const n = Math.min(length, p.filesz - rel);
    const at = p.offset + rel;
    if (!Number.isFinite(at) || at >= src.size || n <= 0) return Buffer.alloc(0);
    return src.readAt(at, Math.min(n, src.size - at));
  }
  return Buffer.alloc(0);
}

/**
 * Test helper: builds small but structurally valid ELF files (header, one PT_LOAD segment that
 * maps the whole file at `base`, the given sections, .shstrtab, section header table).
 * Layout follows the System V gABI tables (see ../elf.ts).
 */

export interface ElfSectionSpec {
  name: string;
  /** Content, or a function of the section's virtual address (for pointer tables) with `size`. */
  data: Buffer | ((addr: number) => Buffer);
  size?: number;
  /** default SHT_PROGBITS (1) */
  type?: number;
}

export interface ElfSpec {
  bits?: 32 | 64;
  bigEndian?: boolean;
  sections: ElfSectionSpec[];
  /** false: e_shoff/e_shnum = 0 (like an sstrip'ed binary). Default true. */
  sectionHeaders?: boolean;
  /** vaddr of file offset 0; default 0x400000 */
  base?: number;
  /** PT_LOAD p_flags; default PF_R|PF_W (6), a data segment */
  segmentFlags?: number;
}

class Writer {
  constructor(
    readonly buf: Buffer,
    readonly be: boolean,
    readonly bits: 32 | 64,
  ) {}
  u16(at: number, v: number) {
    if (this.be) this.buf.writeUInt16BE(v, at);
    else this.buf.writeUInt16LE(v, at);
  }
  u32(at: number, v: number) {
    if (this.be) this.buf.writeUInt32BE(v, at);
    else this.buf.writeUInt32LE(v, at);
  }
  u64(at: number, v: number) {
    if (this.be) this.buf.writeBigUInt64BE(BigInt(v), at);
    else this.buf.writeBigUInt64LE(BigInt(v), at);
  }
  word(at: number, v: number) {
    if (this.bits === 64) this.u64(at, v);
    else this.u32(at, v);
  }
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Builds the ELF image. Section i (in spec order) is at vaddr `base + offset`. */
export function makeElf(spec: ElfSpec): Buffer {
  const bits = spec.bits ?? 64;
  const be = spec.bigEndian ?? false;
  const base = spec.base ?? 0x400000;
  const ehsize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
  const shentsize = bits === 64 ? 64 : 40;
  const withSh = spec.sectionHeaders ?? true;

  let off = align(ehsize + phentsize, 16);
  const placed = spec.sections.map((s) => {
    const size = Buffer.isBuffer(s.data) ? s.data.length : (s.size ?? 0);
    const p = { ...s, offset: off, size, bytes: Buffer.alloc(0) };
    p.bytes = Buffer.isBuffer(s.data) ? s.data : s.data(base + off);
    if (p.bytes.length !== size) throw new Error(`section ${s.name}: size ${p.bytes.length} != ${size}`);
    off = align(off + size, 16);
    return p;
  });
  const names = ['', ...placed.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strtab = Buffer.alloc(0);
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab = Buffer.concat([strtab, Buffer.from(n, 'latin1'), Buffer.alloc(1)]);
  }
  const loadEnd = off;
  const strtabOff = off;
  off = align(off + strtab.length, 16);
  const shoff = off;
  const shnum = names.length;
  const total = withSh ? shoff + shnum * shentsize : loadEnd;
  const buf = Buffer.alloc(total);
  const w = new Writer(buf, be, bits);

  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = bits === 64 ? 2 : 1;
  buf[5] = be ? 2 : 1;
  buf[6] = 1;
  w.u16(16, 2); // ET_EXEC
  w.u16(18, bits === 64 ? (be ? 21 : 62) : be ? 8 : 3); // ppc64 / x86-64 / mips / i386
  w.u32(20, 1);
  const o = bits === 64 ? 0 : -12;
  w.word(24, base);
  w.word(32 + (bits === 64 ? 0 : -4), ehsize); // e_phoff
  w.word(40 + (bits === 64 ? 0 : -8), withSh ? shoff : 0); // e_shoff
  w.u16(52 + o, ehsize);
  w.u16(54 + o, phentsize);
  w.u16(56 + o, 1);
  w.u16(58 + o, shentsize);
  w.u16(60 + o, withSh ? shnum : 0);
  w.u16(62 + o, withSh ? shnum - 1 : 0);

  // PT_LOAD mapping [0, loadEnd) at base
  const ph = ehsize;
  const flags = spec.segmentFlags ?? 6;
  if (bits === 64) {
    w.u32(ph, 1);
    w.u32(ph + 4, flags);
    w.u64(ph + 8, 0);
    w.u64(ph + 16, base);
    w.u64(ph + 24, base);
    w.u64(ph + 32, loadEnd);
    w.u64(ph + 40, loadEnd);
    w.u64(ph + 48, 0x1000);
  } else {
    w.u32(ph, 1);
    w.u32(ph + 4, 0);
    w.u32(ph + 8, base);
    w.u32(ph + 12, base);
    w.u32(ph + 16, loadEnd);
    w.u32(ph + 20, loadEnd);
    w.u32(ph + 24, flags);
    w.u32(ph + 28, 0x1000);
  }
  for (const s of placed) s.bytes.copy(buf, s.offset);
  if (!withSh) return buf;
  strtab.copy(buf, strtabOff);

  const shdr = (i: number, nameOff: number, type: number, addr: number, offset: number, size: number) => {
    const b = shoff + i * shentsize;
    w.u32(b, nameOff);
    w.u32(b + 4, type);
    if (bits === 64) {
      w.u64(b + 16, addr);
      w.u64(b + 24, offset);
      w.u64(b + 32, size);
      w.u64(b + 48, 1);
    } else {
      w.u32(b + 12, addr);
      w.u32(b + 16, offset);
      w.u32(b + 20, size);
      w.u32(b + 32, 1);
    }
  };
  placed.forEach((s, i) => shdr(i + 1, nameOffsets[i + 1]!, s.type ?? 1, base + s.offset, s.offset, s.size));
  shdr(shnum - 1, nameOffsets[shnum - 1]!, 3, 0, strtabOff, strtab.length);
  return buf;
}

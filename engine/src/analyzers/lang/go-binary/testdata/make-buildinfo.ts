/**
 * Test helper: Go build info blobs in both layouts (see ../buildinfo.ts for the format), to
 * be placed in a `.go.buildinfo` section by ../../binary-format/testdata/make-elf.ts.
 */

/** modinfo sentinels written by cmd/go (modload.ModInfoData). */
const START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

export function wrapModinfo(text: string): Buffer {
  return Buffer.concat([START, Buffer.from(text, 'utf8'), END]);
}

function header(ptrSize: number, flags: number): Buffer {
  const h = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(h);
  h[14] = ptrSize;
  h[15] = flags;
  return h;
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** Go ≥ 1.18 layout: header (flags bit 1) + two uvarint-prefixed strings. */
export function inlineBlob(version: string, modinfo: Buffer): Buffer {
  const v = Buffer.from(version, 'utf8');
  return Buffer.concat([header(8, 2), uvarint(v.length), v, uvarint(modinfo.length), modinfo]);
}

/**
 * Go < 1.18 layout as a function of the section address: header with two pointers to Go string
 * headers {ptr, len}, which point at the string bytes stored after them in the same section.
 */
export function pointerBlob(
  ptrSize: 4 | 8,
  bigEndian: boolean,
  version: string,
  modinfo: Buffer,
): { size: number; data: (addr: number) => Buffer } {
  const v = Buffer.from(version, 'utf8');
  const size = 32 + 4 * ptrSize + v.length + modinfo.length;
  const data = (addr: number) => {
    const buf = Buffer.alloc(size);
    header(ptrSize, bigEndian ? 1 : 0).copy(buf);
    const put = (at: number, value: number) => {
      if (ptrSize === 4) {
        if (bigEndian) buf.writeUInt32BE(value, at);
        else buf.writeUInt32LE(value, at);
      } else if (bigEndian) buf.writeBigUInt64BE(BigInt(value), at);
      else buf.writeBigUInt64LE(BigInt(value), at);
    };
    const hdr1 = 32;
    const hdr2 = 32 + 2 * ptrSize;
    const vAt = 32 + 4 * ptrSize;
    const mAt = vAt + v.length;
    put(16, addr + hdr1);
    put(16 + ptrSize, addr + hdr2);
    put(hdr1, addr + vAt);
    put(hdr1 + ptrSize, v.length);
    put(hdr2, addr + mAt);
    put(hdr2 + ptrSize, modinfo.length);
    v.copy(buf, vAt);
    modinfo.copy(buf, mAt);
    return buf;
  };
  return { size, data };
}

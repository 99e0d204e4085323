/**
 * A minimal streaming zip writer for the bench feed set (osv.dev's all.zip shape: one deflated
 * JSON file per advisory). Entries are written as they come; only the central directory records
 * stay in memory. Zip64 end records are added past 65,535 entries or 4 GiB.
 * Format: PKWARE APPNOTE.TXT 6.3.x, https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
 * (local header 4.3.7, central directory header 4.3.12, zip64 end record and locator 4.3.14-15,
 * end of central directory 4.3.16).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';

const DOS_TIME = 0x6000; // 12:00:00
const DOS_DATE = ((2026 - 1980) << 9) | (11 << 5) | 20; // 2026-11-20

export class ZipWriter {
  #fd;
  #offset = 0;
  #central = [];

  constructor(path) {
    this.#fd = openSync(path, 'w');
  }

  #write(buf) {
    writeSync(this.#fd, buf);
    this.#offset += buf.length;
  }

  /** Adds one deflated entry. */
  add(name, text) {
    const data = Buffer.from(text);
    const packed = deflateRawSync(data, { level: 6 });
    const nameBuf = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    const offset = this.#offset;
    if (offset > 0xfffffffe) throw new Error('bench zip writer: archives over 4 GiB are not supported');
    this.#write(local);
    this.#write(nameBuf);
    this.#write(packed);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(0x031e, 4); // made by: unix, 3.0
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt16LE(DOS_TIME, 12);
    cd.writeUInt16LE(DOS_DATE, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(packed.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(nameBuf.length, 28);
    cd.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file
    cd.writeUInt32LE(offset, 42);
    this.#central.push(cd, nameBuf);
  }

  /** Writes the central directory and end records; returns the archive size. */
  close() {
    const start = this.#offset;
    for (const b of this.#central) this.#write(b);
    const size = this.#offset - start;
    const count = this.#central.length / 2;
    if (count > 0xfffe) {
      const z64 = Buffer.alloc(56);
      z64.writeUInt32LE(0x06064b50, 0);
      z64.writeBigUInt64LE(44n, 4);
      z64.writeUInt16LE(45, 12);
      z64.writeUInt16LE(45, 14);
      z64.writeBigUInt64LE(BigInt(count), 24);
      z64.writeBigUInt64LE(BigInt(count), 32);
      z64.writeBigUInt64LE(BigInt(size), 40);
      z64.writeBigUInt64LE(BigInt(start), 48);
      const at = this.#offset;
      this.#write(z64);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(at), 8);
      loc.writeUInt32LE(1, 16);
      this.#write(loc);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(count, 0xffff), 8);
    end.writeUInt16LE(Math.min(count, 0xffff), 10);
    end.writeUInt32LE(size, 12);
    end.writeUInt32LE(start, 16);
    this.#write(end);
    closeSync(this.#fd);
    this.#central = [];
    return this.#offset;
  }
}

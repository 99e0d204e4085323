/**
 * rpm "ndb" backend reader (`Packages.db`, SUSE 15.3+ and openSUSE).
 *
 * Layout (rpm lib/backend/ndb/rpmpkg.c; all integers little-endian):
 * - slot pages of 4096 bytes at the start of the file; the first 32 bytes of page 0 are the
 *   database header: magic "RpmP", version 0, generation, number of slot pages, next index;
 * - every other 16-byte slot is { magic "Slot", package index, block offset, block count };
 *   a block offset of 0 marks a free slot; blocks are 16 bytes;
 * - a blob at blockOffset × 16 is { magic "BlbS", package index, timestamp, length } + the
 *   header blob + zero padding + tail { adler32, length, magic "BlbE" }, where the adler32 covers
 *   everything before the tail (head, blob and padding), and
 *   blockCount = ceil((16 + length + 12) / 16).
 * Every check rpm makes when reading a blob is made here; a bad slot or blob becomes a problem
 * and the walk goes on.
 */
import type { ByteSource, DbRecord } from './db-record.js';

const DB_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"
const TAIL_MAGIC = 0x45626c42; // "BlbE"
const PAGE_SIZE = 4096;
const SLOT_SIZE = 16;
const BLK_SIZE = 16;
const HEAD_SIZE = 16;
const TAIL_SIZE = 12;
const HEADER_SLOTS = 2;

/** True when `head` starts with the ndb magic "RpmP". */
export function isNdb(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === DB_MAGIC;
}

/**
 * Reads every header blob of an ndb `Packages.db`, in blob order.
 *
 * Yields a `problem` for a bad database header (and stops), and for each bad slot or blob (and
 * goes on). Never throws for bad content (only if `source.readAt` itself fails).
 */
export async function* readNdb(source: ByteSource): AsyncGenerator<DbRecord> {
  const head = await source.readAt(0, 32);
  if (head.length < 32 || !isNdb(head)) {
    yield { kind: 'problem', message: 'not an rpm ndb database' };
    return;
  }
  const version = head.readUInt32LE(4);
  const slotPages = head.readUInt32LE(12);
  if (version !== 0) {
    yield { kind: 'problem', message: `unsupported ndb version ${version}` };
    return;
  }
  if (slotPages === 0 || slotPages * PAGE_SIZE > source.size) {
    yield { kind: 'problem', message: `bad slot page count ${slotPages} for a ${source.size}-byte file` };
    return;
  }
  const fileBlocks = Math.floor(source.size / BLK_SIZE);
  const firstDataBlock = (slotPages * PAGE_SIZE) / BLK_SIZE;
  const slots = await source.readAt(0, slotPages * PAGE_SIZE);
  let badMagic = 0;
  const used: Slot[] = [];
  for (let slot = HEADER_SLOTS; slot < slots.length / SLOT_SIZE; slot++) {
    const at = slot * SLOT_SIZE;
    if (slots.readUInt32LE(at) !== SLOT_MAGIC) {
      badMagic++;
      continue;
    }
    const pkgIndex = slots.readUInt32LE(at + 4);
    const blkOff = slots.readUInt32LE(at + 8);
    const blkCnt = slots.readUInt32LE(at + 12);
    if (blkOff === 0) continue;
    if (pkgIndex === 0 || blkCnt === 0 || blkOff < firstDataBlock || blkOff + blkCnt > fileBlocks) {
      yield {
        kind: 'problem',
        message: `slot ${slot} (package ${pkgIndex}): bad slot (blocks ${blkOff}+${blkCnt} of ${fileBlocks})`,
      };
      continue;
    }
    used.push({ slot, pkgIndex, blkOff, blkCnt });
  }
  if (badMagic > 0) yield { kind: 'problem', message: `${badMagic} slots with a bad magic were skipped` };
  // in blob order (as rpm lists them); blobs never overlap, so each byte is read at most once
  used.sort((a, b) => a.blkOff - b.blkOff);
  let end = firstDataBlock;
  for (const { slot, pkgIndex, blkOff, blkCnt } of used) {
    const where = `slot ${slot} (package ${pkgIndex})`;
    if (blkOff < end) {
      yield { kind: 'problem', message: `${where}: blob overlaps the previous one` };
      continue;
    }
    end = blkOff + blkCnt;
    const blob = checkBlob(await source.readAt(blkOff * BLK_SIZE, blkCnt * BLK_SIZE), pkgIndex);
    if (typeof blob === 'string') yield { kind: 'problem', message: `${where}: ${blob}` };
    else yield { kind: 'blob', key: pkgIndex, blob };
  }
}

interface Slot {
  slot: number;
  pkgIndex: number;
  blkOff: number;
  blkCnt: number;
}

/** Verifies one blob (head, length, tail, adler32) and returns the header bytes, or why not. */
function checkBlob(area: Buffer, pkgIndex: number): Buffer | string {
  if (area.length < HEAD_SIZE + TAIL_SIZE) return 'blob too short';
  if (area.readUInt32LE(0) !== BLOB_MAGIC) return 'bad blob magic';
  if (area.readUInt32LE(4) !== pkgIndex) return `blob belongs to package ${area.readUInt32LE(4)}`;
  const len = area.readUInt32LE(12);
  if (Math.ceil((HEAD_SIZE + len + TAIL_SIZE) / BLK_SIZE) * BLK_SIZE !== area.length) {
    return `blob length ${len} does not match its ${area.length / BLK_SIZE} blocks`;
  }
  const tail = area.length - TAIL_SIZE;
  if (area.readUInt32LE(tail + 8) !== TAIL_MAGIC || area.readUInt32LE(tail + 4) !== len)
    return 'bad blob tail';
  if (adler32(area.subarray(0, tail)) !== area.readUInt32LE(tail)) return 'blob checksum mismatch';
  return Buffer.from(area.subarray(HEAD_SIZE, HEAD_SIZE + len));
}

/** Adler-32 (RFC 1950), as rpmpkg.c computes it. */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  const n = data.length;
  for (let i = 0; i < n;) {
    // 5552 is the largest run that cannot overflow before the modulo
    const end = Math.min(n, i + 5552);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * RPM header parser: one header blob (as stored in every rpmdb backend) → its tags.
 *
 * Format: https://rpm-software-management.github.io/rpm/manual/format_v4.html (the "Header"
 * section) and rpm's lib/header.c (`hdrblobInit`, `hdrblobVerifyInfo`, `dataLength`).
 * A blob stored in an rpmdb has no 8-byte magic/reserved prefix; it starts directly with
 *
 *   il (u32 BE)  number of index entries
 *   dl (u32 BE)  size of the data store
 *   il × { tag: i32, type: u32, offset: i32, count: u32 }   (all BE)
 *   dl bytes of data store
 *
 * The first entry of a v4 header is a region tag (62 HEADERSIGNATURES / 63 HEADERIMMUTABLE,
 * 61 HEADERIMAGE in old databases) whose value is a trailer describing the signed region; rpm
 * appends "dribble" entries after the region (install-time tags) that override region tags of
 * the same number. We skip the region marker and read every entry in order, so a later
 * (dribble) entry wins. As in rpm's hdrblobVerifyInfo, entries must be in data order without
 * overlapping. Nothing here trusts a length or an offset before checking it.
 */

/** rpm tag data types (rpmTagType). */
export const RPM_TYPE = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

/** A decoded tag value. Integer types decode to number arrays (INT64 loses precision above 2^53). */
export type HeaderValue =
  | { type: 1 | 2 | 3 | 4 | 5; value: number[] }
  | { type: 6; value: string }
  | { type: 8 | 9; value: string[] }
  | { type: 7; value: Buffer };

/** Tag number → decoded value. */
export type RpmHeader = ReadonlyMap<number, HeaderValue>;

/** A header blob that cannot be decoded; `message` says why. */
export class RpmHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpmHeaderError';
  }
}

/** Same limits as rpm's header.c: at most 0xffff index entries and 256 MiB of data. */
const MAX_ENTRIES = 0xffff;
const MAX_DATA = 256 * 1024 * 1024;
const ENTRY_SIZE = 16;
const REGION_TAGS = new Set([61, 62, 63]);
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 };

/**
 * Decodes an rpm header blob.
 *
 * @param blob the header as stored in Packages / Packages.db / rpmdb.sqlite (no lead, no magic).
 *   Bytes after the data store are ignored.
 * @returns every tag except the region markers; for a tag present twice the later entry wins.
 * @throws RpmHeaderError when the index or data store is inconsistent (truncated blob, offset
 *   out of range, unknown type, unterminated string, misaligned integer array).
 */
export function parseHeader(blob: Uint8Array): Map<number, HeaderValue> {
  const buf = Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 8) throw new RpmHeaderError(`header blob too short (${buf.length} bytes)`);
  const il = buf.readUInt32BE(0);
  const dl = buf.readUInt32BE(4);
  if (il < 1 || il > MAX_ENTRIES) throw new RpmHeaderError(`bad index entry count ${il}`);
  if (dl > MAX_DATA) throw new RpmHeaderError(`bad data length ${dl}`);
  const dataStart = 8 + il * ENTRY_SIZE;
  const dataEnd = dataStart + dl;
  if (dataEnd > buf.length) {
    throw new RpmHeaderError(`header blob truncated: needs ${dataEnd} bytes, has ${buf.length}`);
  }
  const data = buf.subarray(dataStart, dataEnd);
  const tags = new Map<number, HeaderValue>();
  let end = 0;
  for (let i = 0; i < il; i++) {
    const at = 8 + i * ENTRY_SIZE;
    const tag = buf.readInt32BE(at);
    const type = buf.readUInt32BE(at + 4);
    const offset = buf.readInt32BE(at + 8);
    const count = buf.readUInt32BE(at + 12);
    if (i === 0 && REGION_TAGS.has(tag)) continue;
    if (type === RPM_TYPE.NULL) continue;
    const [value, length] = readValue(data, tag, type, offset, count);
    if (offset < end)
      throw new RpmHeaderError(`tag ${tag}: data at ${offset} overlaps the previous entry (ends at ${end})`);
    tags.set(tag, value);
    end = offset + length;
  }
  return tags;
}

/** Decodes one entry; returns the value and the number of data bytes it spans. */
function readValue(
  data: Buffer,
  tag: number,
  type: number,
  offset: number,
  count: number,
): [HeaderValue, number] {
  const where = `tag ${tag}`;
  if (offset < 0 || offset >= data.length)
    throw new RpmHeaderError(`${where}: offset ${offset} outside data (${data.length})`);
  // every element takes at least one byte, so a larger count cannot fit
  if (count < 1 || count > data.length - offset) throw new RpmHeaderError(`${where}: bad count ${count}`);
  switch (type) {
    case RPM_TYPE.STRING: {
      if (count !== 1) throw new RpmHeaderError(`${where}: string with count ${count}`);
      const [strings, length] = readStrings(data, offset, 1, where);
      return [{ type, value: strings[0]! }, length];
    }
    case RPM_TYPE.STRING_ARRAY:
    case RPM_TYPE.I18NSTRING: {
      const [strings, length] = readStrings(data, offset, count, where);
      return [{ type, value: strings }, length];
    }
    case RPM_TYPE.BIN:
      return [{ type, value: Buffer.from(data.subarray(offset, offset + count)) }, count];
    case RPM_TYPE.CHAR:
    case RPM_TYPE.INT8:
    case RPM_TYPE.INT16:
    case RPM_TYPE.INT32:
    case RPM_TYPE.INT64:
      return [{ type, value: readInts(data, type, offset, count, where) }, TYPE_SIZE[type]! * count];
    default:
      throw new RpmHeaderError(`${where}: unknown type ${type}`);
  }
}

function readInts(
  data: Buffer,
  type: 1 | 2 | 3 | 4 | 5,
  offset: number,
  count: number,
  where: string,
): number[] {
  const size = TYPE_SIZE[type]!;
  if (offset % size !== 0) throw new RpmHeaderError(`${where}: misaligned offset ${offset}`);
  if (offset + size * count > data.length)
    throw new RpmHeaderError(`${where}: ${count} integers overrun the data`);
  const out = new Array<number>(count);
  for (let i = 0, p = offset; i < count; i++, p += size) {
    out[i] =
      size === 1
        ? data[p]!
        : size === 2
          ? data.readUInt16BE(p)
          : size === 4
            ? data.readUInt32BE(p)
            : Number(data.readBigUInt64BE(p));
  }
  return out;
}

function readStrings(data: Buffer, offset: number, count: number, where: string): [string[], number] {
  const out = new Array<string>(count);
  let p = offset;
  for (let i = 0; i < count; i++) {
    const end = data.indexOf(0, p);
    if (end < 0) throw new RpmHeaderError(`${where}: unterminated string`);
    out[i] = data.toString('utf8', p, end);
    p = end + 1;
  }
  return [out, p - offset];
}

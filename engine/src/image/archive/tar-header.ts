/**
 * Pure parsing of tar headers: POSIX ustar (with the 155-byte name prefix), GNU extensions
 * (base-256 numbers, 'L'/'K' long names) and pax extended headers ('x' local, 'g' global).
 * Format specs: https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html (ustar and pax
 * interchange formats) and https://www.gnu.org/software/tar/manual/html_node/Standard.html (GNU).
 */

export const BLOCK = 512;

/** One decoded 512-byte header block (before long-name / pax overrides are applied). */
export interface RawTarHeader {
  name: string;
  size: number;
  /** Type flag character; '0' for NUL (old regular files). */
  typeflag: string;
  linkname: string;
  /** permission bits (0o7777); 0o644 when the field is unreadable */
  mode: number;
}

/** Thrown on a malformed header; the indexer turns it into a coded error with the offset. */
export class TarHeaderError extends Error {
  constructor(
    message: string,
    readonly checksum = false,
  ) {
    super(message);
    this.name = 'TarHeaderError';
  }
}

/** True when every byte of the block is zero (end-of-archive marker). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function cString(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return Buffer.from(block.subarray(start, end)).toString('utf8');
}

/**
 * Decodes a numeric field: NUL/space-terminated octal, or GNU base-256 (high bit of the first
 * byte set; big-endian two's complement). Returns a non-negative safe integer or throws.
 */
export function parseNumeric(block: Uint8Array, start: number, length: number): number {
  const first = block[start]!;
  if (first & 0x80) {
    if (first & 0x40) throw new TarHeaderError('negative base-256 number');
    let value = BigInt(first & 0x3f);
    for (let i = start + 1; i < start + length; i++) value = (value << 8n) | BigInt(block[i]!);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarHeaderError('base-256 number too large');
    return Number(value);
  }
  let value = 0;
  let seenDigit = false;
  for (let i = start; i < start + length; i++) {
    const c = block[i]!;
    if (c === 0 || (c === 0x20 && seenDigit)) break;
    if (c === 0x20) continue; // leading spaces
    if (c < 0x30 || c > 0x37) throw new TarHeaderError(`invalid octal digit 0x${c.toString(16)}`);
    value = value * 8 + (c - 0x30);
    seenDigit = true;
  }
  if (!Number.isSafeInteger(value)) throw new TarHeaderError('octal number too large');
  return value;
}

/** Verifies the header checksum (unsigned sum, chksum field counted as spaces; signed sums accepted too). */
function checksumOk(block: Uint8Array): boolean {
  let stored: number;
  try {
    stored = parseNumeric(block, 148, 8);
  } catch {
    return false;
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Parses one non-zero header block. Throws TarHeaderError (checksum=true when the checksum fails). */
export function parseHeader(block: Uint8Array): RawTarHeader {
  if (block.length < BLOCK) throw new TarHeaderError('short header block');
  if (!checksumOk(block)) throw new TarHeaderError('header checksum mismatch', true);
  const magic = Buffer.from(block.subarray(257, 263)).toString('latin1');
  let name = cString(block, 0, 100);
  // POSIX ustar ("ustar\0") splits long names into prefix + name; GNU ("ustar  ") uses that area for times.
  if (magic === 'ustar\0') {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const typeByte = block[156]!;
  return {
    name,
    size: parseNumeric(block, 124, 12),
    typeflag: typeByte === 0 ? '0' : String.fromCharCode(typeByte),
    linkname: cString(block, 157, 100),
    mode: parseMode(block),
  };
}

function parseMode(block: Uint8Array): number {
  try {
    return parseNumeric(block, 100, 8) & 0o7777;
  } catch {
    return 0o644;
  }
}

/**
 * Parses a pax extended header body: records `"<len> <key>=<value>\n"` where len counts the whole
 * record. Returns the key/value pairs; malformed records end parsing (what was read is kept).
 */
export function parsePax(body: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const buf = Buffer.from(body);
  let pos = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number(buf.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= space - pos + 1 || pos + len > buf.length) break;
    const record = buf.subarray(space + 1, pos + len - 1).toString('utf8'); // drop trailing \n
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Bytes the body of an entry of `size` bytes occupies (rounded up to whole blocks). */
export function paddedSize(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

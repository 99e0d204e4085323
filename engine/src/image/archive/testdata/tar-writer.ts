/**
 * Minimal tar writer for tests: produces exact headers (ustar, with hooks for hostile names,
 * pax/GNU records, base-256 sizes and truncation) so the indexer can be tested on inputs the
 * system `tar` refuses to write.
 */
export interface RawEntry {
  name: string;
  body?: string | Uint8Array;
  /** Type flag character, default '0'. */
  type?: string;
  linkname?: string;
  /** ustar prefix field (155 bytes). */
  prefix?: string;
  /** Size to write in the header (default body length); with base256 it is written GNU-style. */
  size?: number;
  base256?: boolean;
  /** Overwrite the stored checksum with garbage. */
  badChecksum?: boolean;
}

function field(buf: Buffer, offset: number, length: number, text: string): void {
  buf.write(text, offset, length, 'utf8');
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  field(buf, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

/** One 512-byte header block. */
export function header(e: RawEntry): Buffer {
  const h = Buffer.alloc(512);
  const body = typeof e.body === 'string' ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0));
  const size = e.size ?? body.length;
  field(h, 0, 100, e.name);
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  if (e.base256) {
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  } else octal(h, 124, 12, size);
  octal(h, 136, 12, 0);
  h.write(e.type ?? '0', 156, 1, 'latin1');
  field(h, 157, 100, e.linkname ?? '');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  field(h, 345, 155, e.prefix ?? '');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  octal(h, 148, 7, e.badChecksum ? sum + 1 : sum);
  h[155] = 0x20;
  return h;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

/** A pax record `"<len> key=value\n"`. */
export function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(rest) + 1;
  while (String(len).length + Buffer.byteLength(rest) !== len) len++;
  return `${len}${rest}`;
}

/** A whole archive: headers, padded bodies, two zero blocks (unless `end: false`). */
export function tar(entries: RawEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = typeof e.body === 'string' ? Buffer.from(e.body) : Buffer.from(e.body ?? []);
    parts.push(header(e), body, pad(body.length));
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

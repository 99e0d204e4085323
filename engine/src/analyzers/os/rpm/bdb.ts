/**
 * Berkeley DB hash database reader (rpm's legacy `Packages` file, rpm < 4.16 and SUSE < 15.3).
 *
 * Layout (Berkeley DB 4.x-6.x, src/dbinc/db_page.h; the approach follows knqyf263/go-rpmdb's
 * pkg/bdb, re-implemented here):
 * - page 0 is the hash metadata page: magic 0x061561 at 12 (its byte order gives the file's
 *   byte order), page size at 20, encryption algorithm at 24, page type 8 at 25, last page number at 32;
 * - every page starts with a 26-byte header: pgno 8, prev 12, next 16, entries 20,
 *   hf_offset 22 (on overflow pages: bytes of data on the page), type 25 (Berkeley DB page
 *   checksums would widen it; rpm databases are not seen with them, and go-rpmdb assumes 26 too);
 * - hash pages (type 13, or 2 for unsorted pages of old databases) hold `entries` u16 item
 *   offsets right after the header, as key/value pairs; an item is H_KEYDATA (type 1, inline
 *   bytes up to the previous item) or H_OFFPAGE (type 3: pgno u32 at 4, total length u32 at 8)
 *   whose data is a chain of overflow pages (type 7) linked by `next`.
 * rpm stores one header per record, keyed by its 4-byte header instance number; record 0 holds
 * rpm's instance counter and is not a package.
 */
import type { ByteSource, DbRecord } from './db-record.js';

const HASH_MAGIC = 0x061561;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
const PAGE_HEADER = 26;
const MAX_BLOB = 256 * 1024 * 1024;

/** True when `head` (the first 26+ bytes of a file) starts like a Berkeley DB hash database. */
export function isBdbHash(head: Buffer): boolean {
  if (head.length < 26) return false;
  return (
    (head.readUInt32LE(12) === HASH_MAGIC || head.readUInt32BE(12) === HASH_MAGIC) && head[25] === P_HASHMETA
  );
}

interface Layout {
  pageSize: number;
  pages: number;
  le: boolean;
  overhead: number;
  /** overflow pages already read: each belongs to one chain, so a crafted file cannot make us reread them */
  used: Set<number>;
}

/**
 * Reads every header blob of a Berkeley DB hash `Packages` file.
 *
 * Yields a `problem` for each unreadable page, item or overflow chain and goes on with the
 * next one; a bad metadata page yields one problem and ends the walk. Never throws for bad
 * content (only if `source.readAt` itself fails).
 */
export async function* readBdb(source: ByteSource): AsyncGenerator<DbRecord> {
  const meta = await source.readAt(0, 512);
  const layout = parseMeta(meta, source.size);
  if (typeof layout === 'string') {
    yield { kind: 'problem', message: layout };
    return;
  }
  const { pageSize, pages, le } = layout;
  if (pages * pageSize > source.size) {
    yield {
      kind: 'problem',
      message: `truncated: ${pages} pages of ${pageSize} bytes expected, ${source.size} bytes present`,
    };
  }
  const available = Math.min(pages, Math.floor(source.size / pageSize));
  const seen = new Set<number>();
  for (let pgno = 1; pgno < available; pgno++) {
    const page = await source.readAt(pgno * pageSize, pageSize);
    const type = page[25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(page, 20, le);
    if (entries % 2 !== 0 || layout.overhead + entries * 2 > pageSize) {
      yield { kind: 'problem', message: `page ${pgno}: bad item count ${entries}` };
      continue;
    }
    const offsets: number[] = [];
    for (let i = 0; i < entries; i++) offsets.push(u16(page, layout.overhead + i * 2, le));
    for (let i = 0; i < entries; i += 2) {
      const record = await readPair(source, layout, page, pgno, offsets, i);
      if (record === undefined) continue;
      if (record.kind === 'blob' && record.key >= 0) {
        // a record is listed once; a repeated key is a stale copy
        if (seen.has(record.key)) continue;
        seen.add(record.key);
      }
      yield record;
    }
  }
}

function parseMeta(meta: Buffer, size: number): Layout | string {
  if (!isBdbHash(meta) || meta.length < 36) return 'not a Berkeley DB hash database';
  const le = meta.readUInt32LE(12) === HASH_MAGIC;
  const pageSize = u32(meta, 20, le);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
    return `bad page size ${pageSize}`;
  if (meta[24] !== 0) return 'encrypted Berkeley DB databases are not supported';
  const lastPgno = u32(meta, 32, le);
  if (size < pageSize) return `truncated: smaller than one ${pageSize}-byte page`;
  return { pageSize, pages: lastPgno + 1, le, overhead: PAGE_HEADER, used: new Set() };
}

/** Reads the key/value pair at item index `i` (key) and `i + 1` (value). */
async function readPair(
  source: ByteSource,
  layout: Layout,
  page: Buffer,
  pgno: number,
  offsets: number[],
  i: number,
): Promise<DbRecord | undefined> {
  const where = `page ${pgno} item ${i / 2}`;
  const keyItem = item(page, offsets, i, layout);
  const valueItem = item(page, offsets, i + 1, layout);
  if (!keyItem || !valueItem) return { kind: 'problem', message: `${where}: item offset outside the page` };
  // keys are the 4-byte header instance number, inline
  const key = keyItem[0] === H_KEYDATA && keyItem.length === 5 ? u32(keyItem, 1, layout.le) : -1;
  if (key === 0) return undefined;
  if (valueItem[0] === H_KEYDATA) {
    return { kind: 'blob', key, blob: Buffer.from(valueItem.subarray(1)) };
  }
  if (valueItem[0] !== H_OFFPAGE || valueItem.length < 12) {
    return { kind: 'problem', message: `${where}: unsupported item type ${valueItem[0]}` };
  }
  const start = u32(valueItem, 4, layout.le);
  const total = u32(valueItem, 8, layout.le);
  const blob = await readOverflow(source, layout, start, total);
  if (typeof blob === 'string') return { kind: 'problem', message: `${where}: ${blob}` };
  return { kind: 'blob', key, blob };
}

/** Item `i` of a hash page: it runs from its offset to the previous item's offset (or page end). */
function item(page: Buffer, offsets: number[], i: number, layout: Layout): Buffer | undefined {
  const start = offsets[i]!;
  const end = i === 0 ? layout.pageSize : offsets[i - 1]!;
  const min = layout.overhead + offsets.length * 2;
  if (start < min || end > page.length || start >= end) return undefined;
  return page.subarray(start, end);
}

/** Concatenates an overflow page chain; returns a reason string when the chain is broken. */
async function readOverflow(
  source: ByteSource,
  layout: Layout,
  first: number,
  total: number,
): Promise<Buffer | string> {
  if (total > MAX_BLOB || total > source.size) return `overflow length ${total} too large`;
  const parts: Buffer[] = [];
  let have = 0;
  let pgno = first;
  while (have < total) {
    if (pgno === 0 || pgno >= layout.pages) return `broken overflow chain at page ${pgno}`;
    if (layout.used.has(pgno)) return `overflow page ${pgno} is already part of another chain`;
    layout.used.add(pgno);
    const page = await source.readAt(pgno * layout.pageSize, layout.pageSize);
    if (page.length < layout.pageSize) return `overflow page ${pgno} beyond end of file`;
    if (page[25] !== P_OVERFLOW) return `page ${pgno} is not an overflow page (type ${page[25]})`;
    const len = u16(page, 22, layout.le);
    if (len === 0 || layout.overhead + len > layout.pageSize)
      return `overflow page ${pgno}: bad length ${len}`;
    parts.push(page.subarray(layout.overhead, layout.overhead + len));
    have += len;
    pgno = u32(page, 16, layout.le);
  }
  if (have !== total) return `overflow chain holds ${have} bytes, expected ${total}`;
  return Buffer.concat(parts, total);
}

function u16(b: Buffer, at: number, le: boolean): number {
  return le ? b.readUInt16LE(at) : b.readUInt16BE(at);
}

function u32(b: Buffer, at: number, le: boolean): number {
  return le ? b.readUInt32LE(at) : b.readUInt32BE(at);
}

/**
 * Writers for synthetic rpm test inputs: header blobs laid out the way rpm's headerExport does
 * (immutable region tag 63 + trailer, entries in offset order, data aligned per type), an
 * rpmdb.sqlite with rpm's tables, and an ndb Packages.db. The headers are accepted by the real
 * rpm tool (rpm-oracle.test.ts reads them back through it), which is what proves the writer.
 */
import Database from 'better-sqlite3';
import { adler32 } from '../ndb.js';

export type FixtureValue =
  | { tag: number; type: 4; value: number[] }
  | { tag: number; type: 6; value: string }
  | { tag: number; type: 8; value: string[] };

const ALIGN: Record<number, number> = { 4: 4, 6: 1, 8: 1 };

/** An rpm header blob (no magic) holding `entries` inside an immutable region. */
export function buildHeader(entries: readonly FixtureValue[]): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const chunks: Buffer[] = [];
  const index: Buffer[] = [];
  let dl = 0;
  const entry = (tag: number, type: number, offset: number, count: number) => {
    const e = Buffer.alloc(16);
    e.writeInt32BE(tag, 0);
    e.writeUInt32BE(type, 4);
    e.writeInt32BE(offset, 8);
    e.writeUInt32BE(count, 12);
    return e;
  };
  for (const e of sorted) {
    const pad = (ALIGN[e.type]! - (dl % ALIGN[e.type]!)) % ALIGN[e.type]!;
    if (pad) chunks.push(Buffer.alloc(pad));
    dl += pad;
    let data: Buffer;
    let count: number;
    if (e.type === 4) {
      data = Buffer.alloc(4 * e.value.length);
      e.value.forEach((v, i) => data.writeUInt32BE(v, 4 * i));
      count = e.value.length;
    } else if (e.type === 6) {
      data = Buffer.from(`${e.value}\0`);
      count = 1;
    } else {
      data = Buffer.from(e.value.map((s) => `${s}\0`).join(''));
      count = e.value.length;
    }
    index.push(entry(e.tag, e.type, dl, count));
    chunks.push(data);
    dl += data.length;
  }
  const il = sorted.length + 1;
  // region trailer: a copy of the region entry whose offset is minus the region's index size
  chunks.push(entry(63, 7, -il * 16, 16));
  const region = entry(63, 7, dl, 16);
  dl += 16;
  const head = Buffer.alloc(8);
  head.writeUInt32BE(il, 0);
  head.writeUInt32BE(dl, 4);
  return Buffer.concat([head, region, ...index, ...chunks]);
}

/** The usual tags of a binary package; `extra` is appended (and may override). */
export function packageHeader(
  nevra: { name: string; version: string; release: string; arch?: string; epoch?: number; sourceRpm?: string },
  extra: readonly FixtureValue[] = [],
): Buffer {
  const entries: FixtureValue[] = [
    { tag: 1000, type: 6, value: nevra.name },
    { tag: 1001, type: 6, value: nevra.version },
    { tag: 1002, type: 6, value: nevra.release },
  ];
  if (nevra.epoch !== undefined) entries.push({ tag: 1003, type: 4, value: [nevra.epoch] });
  if (nevra.arch) entries.push({ tag: 1022, type: 6, value: nevra.arch });
  if (nevra.sourceRpm) entries.push({ tag: 1044, type: 6, value: nevra.sourceRpm });
  const tags = new Map(entries.map((e) => [e.tag, e]));
  for (const e of extra) tags.set(e.tag, e);
  return buildHeader([...tags.values()]);
}

/** rpm's index tables; rpm opens them (empty is fine) before reading Packages. */
const INDEX_TABLES = [
  'Name', 'Basenames', 'Group', 'Requirename', 'Providename', 'Conflictname', 'Obsoletename',
  'Triggername', 'Dirnames', 'Installtid', 'Sigmd5', 'Sha1header', 'Filetriggername',
  'Transfiletriggername', 'Recommendname', 'Suggestname', 'Supplementname', 'Enhancename',
];

/** An rpmdb.sqlite holding `blobs` (hnum 1..n); written to `file`, or returned as bytes. */
export function makeSqliteRpmdb(blobs: readonly Uint8Array[], file?: string): Buffer {
  const db = new Database(file ?? ':memory:');
  try {
    db.exec("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
    for (const t of INDEX_TABLES) {
      db.exec(`CREATE TABLE '${t}' (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL)`);
    }
    const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
    for (const b of blobs) insert.run(Buffer.from(b));
    return db.serialize();
  } finally {
    db.close();
  }
}

/** An ndb Packages.db holding `blobs` (package index 1..n) after one slot page. */
export function makeNdb(blobs: readonly Uint8Array[]): Buffer {
  const page = Buffer.alloc(4096);
  page.write('RpmP', 0, 'latin1');
  page.writeUInt32LE(1, 8); // generation
  page.writeUInt32LE(1, 12); // slot pages
  page.writeUInt32LE(blobs.length + 1, 16); // next package index
  for (let s = 2; s < 256; s++) page.write('Slot', s * 16, 'latin1');
  const areas: Buffer[] = [];
  let blk = 4096 / 16;
  blobs.forEach((blob, i) => {
    const blocks = Math.ceil((16 + blob.length + 12) / 16);
    const area = Buffer.alloc(blocks * 16);
    area.write('BlbS', 0, 'latin1');
    area.writeUInt32LE(i + 1, 4);
    area.writeUInt32LE(1_700_000_000, 8);
    area.writeUInt32LE(blob.length, 12);
    Buffer.from(blob).copy(area, 16);
    const tail = area.length - 12;
    area.writeUInt32LE(adler32(area.subarray(0, tail)), tail);
    area.writeUInt32LE(blob.length, tail + 4);
    area.write('BlbE', tail + 8, 'latin1');
    const slot = (i + 2) * 16;
    page.writeUInt32LE(i + 1, slot + 4);
    page.writeUInt32LE(blk, slot + 8);
    page.writeUInt32LE(blocks, slot + 12);
    areas.push(area);
    blk += blocks;
  });
  return Buffer.concat([page, ...areas]);
}

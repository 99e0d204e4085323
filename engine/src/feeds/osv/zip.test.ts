/**
 * OSV export zips built here with fflate from real records, plus broken entries; the same records
 * must come out as from the single files, through a streamed body (spooled) and a file body.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRealdata } from '../../../../test/support/realdata.js';
import { fileBody } from './body.js';
import { osvFeed } from './index.js';
import { newOsvParseStats } from './osv-record.js';
import { bufferBody, collect, feed } from './testdata/support.js';
import { readZip } from './zip.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-osv-zip-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rewrites a zip's end records into the zip64 form (counts and offsets 0xFFFF… in the EOCD). */
function toZip64(zip: Uint8Array): Buffer {
  const buf = Buffer.from(zip);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const rec = Buffer.alloc(56);
  rec.writeUInt32LE(0x06064b50, 0);
  rec.writeBigUInt64LE(44n, 4);
  rec.writeUInt16LE(45, 12);
  rec.writeUInt16LE(45, 14);
  rec.writeBigUInt64LE(BigInt(buf.readUInt16LE(eocd + 8)), 24);
  rec.writeBigUInt64LE(BigInt(buf.readUInt16LE(eocd + 10)), 32);
  rec.writeBigUInt64LE(BigInt(buf.readUInt32LE(eocd + 12)), 40);
  rec.writeBigUInt64LE(BigInt(buf.readUInt32LE(eocd + 16)), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(eocd), 8); // the zip64 record goes where the EOCD was
  locator.writeUInt32LE(1, 16);
  const end = Buffer.from(buf.subarray(eocd));
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([buf.subarray(0, eocd), rec, locator, end]);
}

/** Flips a byte in the data of the (stored) entry `name`. */
function flipEntryByte(zip: Uint8Array, name: string): Buffer {
  const buf = Buffer.from(zip);
  const header = buf.indexOf(Buffer.from(name)) - 30;
  const data = header + 30 + buf.readUInt16LE(header + 26) + buf.readUInt16LE(header + 28);
  buf[data + 5] = buf[data + 5]! ^ 0x01;
  return buf;
}

describe.skipIf(!hasRealdata)('OSV export zips', () => {
  const single = async (rel: string) => (await collect(osvFeed.parse(bufferBody(feed(rel).bytes))))[0];
  const build = () =>
    flipEntryByte(
      zipSync({
        'GHSA-c2qf-rxjj-qqgw.json': [feed('ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json').bytes, { level: 9 }],
        'GO-2024-2963.json': [feed('osv/osvschema-GO-2024-2963.json').bytes, { level: 0 }],
        'broken.json': [feed('osv/trivydb-PYSEC-2023-120.json').bytes.subarray(0, 100), { level: 6 }],
        'README.md': [Buffer.from('# not an advisory\n'), { level: 6 }],
        'flipped.json': [feed('osv/trivydb-GO-2025-3487.json').bytes, { level: 0 }],
        'PYSEC-2023-120.json': [feed('osv/trivydb-PYSEC-2023-120.json').bytes, { level: 6 }],
        sub: { dir: { 'GO-2023-1989.json': [feed('osv/vunnel-GO-2023-1989.json').bytes, { level: 1 }] } },
      }),
      'flipped.json',
    );

  const expected = async () => [
    await single('ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json'),
    await single('osv/osvschema-GO-2024-2963.json'),
    {
      type: 'malformed',
      ref: 'broken.json',
      message: expect.stringMatching(/^all\.zip: broken\.json: not JSON: /),
    },
    { type: 'malformed', ref: 'flipped.json', message: 'all.zip: flipped.json: CRC mismatch' },
    await single('osv/trivydb-PYSEC-2023-120.json'),
    await single('osv/vunnel-GO-2023-1989.json'),
  ];

  it('streams the entries of a zip body: real records as from single files, broken entries malformed', async () => {
    const stats = newOsvParseStats();
    const records = await collect(osvFeed.parse(bufferBody(build(), 'all.zip', 4096), { stats }));
    expect(records).toEqual(await expected());
    expect(stats).toEqual({
      records: 6,
      vulnerabilities: 4,
      withdrawn: 0,
      malformed: 2,
      skippedAffected: 0,
      skippedByEcosystem: {},
    });
  });

  it('reads a zip file body in place, and the zip64 form of the same archive', async () => {
    const path = join(dir, 'all.zip');
    await writeFile(path, build());
    expect(await collect(osvFeed.parse(fileBody(path, 'all.zip')))).toEqual(await expected());
    await writeFile(path, toZip64(build()));
    expect(await collect(osvFeed.parse(fileBody(path, 'all.zip')))).toEqual(await expected());
  });

  it('an empty export yields nothing; a cut-off or garbled archive is ENG_FEED_FORMAT', async () => {
    expect(await collect(osvFeed.parse(bufferBody(zipSync({}))))).toEqual([]);
    const zip = build();
    for (const broken of [
      zip.subarray(0, zip.length - 30),
      zip.subarray(0, 200),
      Buffer.concat([zip.subarray(0, zip.length - 22), Buffer.alloc(22)]),
    ])
      await expect(collect(osvFeed.parse(bufferBody(broken, 'all.zip')))).rejects.toMatchObject({
        code: 'ENG_FEED_FORMAT',
      });
  });
});

describe('readZip limits', () => {
  it('reports an entry over the size cap instead of inflating it', async () => {
    const path = join(dir, 'big.zip');
    await writeFile(
      path,
      zipSync({
        'a.json': [Buffer.alloc(5000, 0x20), { level: 9 }],
        'b.json': [Buffer.from('{}'), { level: 0 }],
      }),
    );
    const items = [];
    for await (const item of readZip(path, { maxEntryBytes: 1000 }))
      items.push('data' in item ? { name: item.name, data: item.data.toString() } : item);
    expect(items).toEqual([
      { name: 'a.json', error: 'entry too large (5000 bytes)' },
      { name: 'b.json', data: '{}' },
    ]);
  });
});

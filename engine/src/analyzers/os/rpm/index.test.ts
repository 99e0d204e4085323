import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer } from '../../types.js';
import { rpmAnalyzer } from './index.js';
import { makeNdb, makeSqliteRpmdb, packageHeader } from './testdata/fixtures.js';

const rpmdb = (name: string) => readFileSync(realdata(`pkgdb/rpm/${name}`));
const analyze = (path: string, bytes: Buffer) =>
  Promise.resolve(rpmAnalyzer.analyze(inputFromBuffer(path, bytes)));
const unknown = (path: string, message: string) => ({
  path,
  message: `rpm database: ${message}`,
  source: 'os/rpm',
});

describe('required', () => {
  test.each([
    ['var/lib/rpm/Packages', true],
    ['var/lib/rpm/Packages.db', true],
    ['var/lib/rpm/rpmdb.sqlite', true],
    ['usr/lib/sysimage/rpm/Packages', true],
    ['usr/lib/sysimage/rpm/Packages.db', true],
    ['usr/lib/sysimage/rpm/rpmdb.sqlite', true],
    ['var/lib/rpm/Name', false],
    ['var/lib/rpm/rpmdb.sqlite-wal', false],
    ['/var/lib/rpm/Packages', false],
    ['x/var/lib/rpm/Packages', false],
  ])('%s → %s', (path, wanted) => {
    expect(rpmAnalyzer.required(path, { size: 1, mode: 0o644 })).toBe(wanted);
  });

  test('staticPaths lists exactly the required paths', () => {
    expect(rpmAnalyzer.staticPaths.every((p) => rpmAnalyzer.required(p, { size: 1, mode: 0o644 }))).toBe(
      true,
    );
    expect(rpmAnalyzer.staticPaths).toHaveLength(6);
  });
});

// Expected values below were read off the files with `strings` and `rpm --dbpath DIR -q ... --qf`.
describe.skipIf(!hasRealdata)('real databases', () => {
  test('Berkeley DB with an epoch (scalibr Packages_epoch): a stale deleted header is not listed', async () => {
    expect(await analyze('var/lib/rpm/Packages', rpmdb('scalibr-Packages_epoch'))).toEqual({
      packages: [
        {
          name: 'hello',
          version: '1:0.0.1-rls',
          ecosystem: 'rpm',
          foundBy: 'os/rpm',
          arch: 'x86_64',
          srcName: 'hello',
          srcVersion: '1:0.0.1-rls',
          licenses: ['GPL'],
          metadata: { epoch: 1 },
        },
      ],
      ownedFiles: ['usr/bin/hello.sh'],
    });
  });

  test('Berkeley DB (syft Packages): no vendor tag', async () => {
    expect(await analyze('var/lib/rpm/Packages', rpmdb('syft-Packages-bdb'))).toEqual({
      packages: [
        {
          name: 'dive',
          version: '0.9.2-1',
          ecosystem: 'rpm',
          foundBy: 'os/rpm',
          arch: 'x86_64',
          srcName: 'dive',
          srcVersion: '0.9.2-1',
          licenses: ['MIT'],
        },
      ],
      ownedFiles: ['usr/local/bin/dive'],
    });
  });

  test('Berkeley DB (go-rpmdb libuuid): source package differs from the binary', async () => {
    expect(await analyze('var/lib/rpm/Packages', rpmdb('gorpmdb-libuuid-Packages'))).toEqual({
      packages: [
        {
          name: 'libuuid',
          version: '2.32.1-42.el8_8',
          ecosystem: 'rpm',
          foundBy: 'os/rpm',
          arch: 'x86_64',
          srcName: 'util-linux',
          srcVersion: '2.32.1-42.el8_8',
          licenses: ['BSD'],
          metadata: { vendor: 'Red Hat, Inc.' },
        },
      ],
      ownedFiles: [
        'usr/lib/.build-id',
        'usr/lib/.build-id/df/ef6a880adac817216ab9866779a0725e017647',
        'usr/lib64/libuuid.so.1',
        'usr/lib64/libuuid.so.1.3.0',
        'usr/share/licenses/libuuid',
        'usr/share/licenses/libuuid/COPYING',
        'usr/share/licenses/libuuid/COPYING.BSD-3',
      ],
    });
  });

  test('ndb Packages.db (SLE 15 BCI): 35 packages, one checked whole with its files', async () => {
    const result = await analyze('usr/lib/sysimage/rpm/Packages.db', rpmdb('gorpmdb-sle15-bci-Packages.db'));
    expect(result.unknowns).toBeUndefined();
    expect(result.packages).toHaveLength(35); // 35 "*.src.rpm" strings in the file, one per header
    expect(result.packages?.find((p) => p.name === 'libcap2')).toEqual({
      name: 'libcap2',
      version: '2.26-4.6.1',
      ecosystem: 'rpm',
      foundBy: 'os/rpm',
      arch: 'x86_64',
      srcName: 'libcap',
      srcVersion: '2.26-4.6.1',
      licenses: ['BSD-3-Clause or GPL-2.0'],
      metadata: { vendor: 'SUSE LLC <https://www.suse.com/>' },
    });
    expect(result.ownedFiles?.filter((f) => /libcap/.test(f)).sort()).toEqual([
      'usr/lib64/libcap.so.2',
      'usr/lib64/libcap.so.2.26',
      'usr/share/licenses/libcap2',
      'usr/share/licenses/libcap2/License',
    ]);
  });

  test('rpmdb.sqlite in WAL mode (CBL-Mariner 2.0): 129 packages, epoch on binary and source', async () => {
    const result = await analyze('var/lib/rpm/rpmdb.sqlite', rpmdb('gorpmdb-cbl-mariner-2.0-rpmdb.sqlite'));
    expect(result.unknowns).toBeUndefined();
    expect(result.packages).toHaveLength(129);
    expect(result.packages?.find((p) => p.name === 'ca-certificates-base')).toEqual({
      name: 'ca-certificates-base',
      version: '1:2.0.0-1.cm2',
      ecosystem: 'rpm',
      foundBy: 'os/rpm',
      arch: 'noarch',
      srcName: 'ca-certificates',
      srcVersion: '1:2.0.0-1.cm2',
      licenses: ['MPLv2.0'],
      metadata: { vendor: 'Microsoft Corporation', epoch: 1 },
    });
    expect(result.ownedFiles).toContain('usr/share/pki/ca-trust-source/ca-bundle.trust.base.p11-kit');
  });

  test('ndb: a damaged blob is reported and the other 34 packages are still returned', async () => {
    const bytes = Buffer.from(rpmdb('gorpmdb-sle15-bci-Packages.db'));
    bytes[bytes.indexOf('libcap-2.26-4.6.1.src.rpm')] = 0x4c; // "l" → "L": only the checksum notices
    const result = await analyze('var/lib/rpm/Packages.db', bytes);
    expect(result.packages).toHaveLength(34);
    expect(result.packages?.some((p) => p.name === 'libcap2')).toBe(false);
    expect(result.unknowns).toEqual([
      {
        ...unknown('var/lib/rpm/Packages.db', ''),
        message: expect.stringMatching(/^rpm database: slot \d+ \(package \d+\): blob checksum mismatch$/),
      },
    ]);
  });

  test('Berkeley DB: a broken header inside an overflow chain is reported', async () => {
    const bytes = Buffer.from(rpmdb('gorpmdb-libuuid-Packages'));
    // overwrite NAME and the strings after it with "A"s: they run together into one string that
    // overlaps the data of the next index entry, which the header parser refuses (as rpm does)
    const at = bytes.indexOf('libuuid\0');
    bytes.fill(0x41, at, at + 200);
    const result = await analyze('var/lib/rpm/Packages', bytes);
    expect(result.packages).toEqual([]);
    expect(result.unknowns).toEqual([
      {
        ...unknown('var/lib/rpm/Packages', ''),
        message: expect.stringMatching(/^rpm database: record \d+: tag \d+: /),
      },
    ]);
  });

  test('Berkeley DB: truncation is reported, never thrown', async () => {
    const result = await analyze(
      'var/lib/rpm/Packages',
      rpmdb('gorpmdb-libuuid-Packages').subarray(0, 40_000),
    );
    expect(result.packages).toEqual([]);
    expect(result.unknowns?.[0]).toEqual(
      unknown('var/lib/rpm/Packages', 'truncated: 23 pages of 4096 bytes expected, 40000 bytes present'),
    );
  });
});

describe('synthetic databases', () => {
  const good = packageHeader({
    name: 'zlib',
    version: '1.2.13',
    release: '2.fc38',
    arch: 'x86_64',
    sourceRpm: 'zlib-1.2.13-2.fc38.src.rpm',
  });
  const zlib = {
    name: 'zlib',
    version: '1.2.13-2.fc38',
    ecosystem: 'rpm',
    foundBy: 'os/rpm',
    arch: 'x86_64',
    srcName: 'zlib',
    srcVersion: '1.2.13-2.fc38',
  };
  const key = packageHeader({ name: 'gpg-pubkey', version: '18b8e74c', release: '62f2920f' });
  const junk = Buffer.from('not a header at all');
  const nameless = packageHeader({ name: '', version: '1', release: '1' });

  test('sqlite: gpg-pubkey skipped, bad rows become unknowns, good rows kept', async () => {
    const db = makeSqliteRpmdb([good, key, junk, nameless]);
    const path = 'usr/lib/sysimage/rpm/rpmdb.sqlite';
    expect(await analyze(path, db)).toEqual({
      packages: [zlib],
      ownedFiles: [],
      unknowns: [
        unknown(path, 'record 3: bad index entry count 1852797984'),
        unknown(path, 'record 4: header lacks NAME'),
      ],
    });
  });

  test('ndb written by the fixture writer reads back', async () => {
    expect(await analyze('var/lib/rpm/Packages.db', makeNdb([good, key]))).toEqual({
      packages: [zlib],
      ownedFiles: [],
    });
  });

  test('ndb: a slot whose blob overlaps another one is reported, not read twice', async () => {
    const db = makeNdb([good, good]);
    db.writeUInt32LE(db.readUInt32LE(2 * 16 + 8), 3 * 16 + 8); // slot 3 → slot 2's blocks
    expect(await analyze('var/lib/rpm/Packages.db', db)).toEqual({
      packages: [zlib],
      ownedFiles: [],
      unknowns: [unknown('var/lib/rpm/Packages.db', 'slot 3 (package 2): blob overlaps the previous one')],
    });
  });

  test('the format is recognised by content, not by file name', async () => {
    expect(await analyze('var/lib/rpm/Packages', makeSqliteRpmdb([good]))).toEqual({
      packages: [zlib],
      ownedFiles: [],
    });
  });

  test.each([
    ['text', Buffer.from('hello\n'), 'not an rpm database (no Berkeley DB, ndb or SQLite signature)'],
    [
      'a broken SQLite file',
      Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(200, 7)]),
      'sqlite: file is not a database',
    ],
    ['SQLite without a Packages table', emptySqlite(), 'no Packages table'],
    ['an ndb header only', makeNdb([]).subarray(0, 100), 'bad slot page count 1 for a 100-byte file'],
  ])('%s → one unknown', async (_name, bytes, message) => {
    expect(await analyze('var/lib/rpm/rpmdb.sqlite', bytes)).toEqual({
      packages: [],
      ownedFiles: [],
      unknowns: [unknown('var/lib/rpm/rpmdb.sqlite', message)],
    });
  });

  test('an empty file has no packages and no problem', async () => {
    expect(await analyze('var/lib/rpm/Packages', Buffer.alloc(0))).toEqual({ packages: [], ownedFiles: [] });
  });
});

/** A valid SQLite file whose only table is not Packages. */
function emptySqlite(): Buffer {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE Name (key TEXT)');
  const bytes = db.serialize();
  db.close();
  return bytes;
}

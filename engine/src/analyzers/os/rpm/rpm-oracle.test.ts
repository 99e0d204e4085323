/**
 * The real rpm tool as the oracle: every database it can read is queried with
 * `rpm --dbpath DIR -qa --qf ...` and must give exactly our packages and owned files.
 * rpm here reads Berkeley DB (bdb_ro) and SQLite, not ndb; ndb headers are checked by moving the
 * blobs our ndb reader extracts (each verified by its adler32) into an SQLite rpmdb for rpm.
 * Skipped when rpm is not installed (CI installs the `rpm` package).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Package } from '../../../model/package.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { bufferContent, inputFromBuffer } from '../../types.js';
import { rpmAnalyzer } from './index.js';
import { readNdb } from './ndb.js';
import { makeSqliteRpmdb, packageHeader } from './testdata/fixtures.js';

const hasRpm = spawnSync('rpm', ['--version']).status === 0;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dbDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rpm-oracle-'));
  dirs.push(dir);
  return dir;
}

function rpmQuery(dir: string, format: string): string[] {
  const out = spawnSync('rpm', ['--dbpath', dir, '-qa', '--qf', format], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return out.stdout.split('\n').filter((line) => line !== '');
}

const FIELDS = [
  'NAME',
  'EPOCH',
  'VERSION',
  'RELEASE',
  'ARCH',
  'SOURCERPM',
  'LICENSE',
  'VENDOR',
  'MODULARITYLABEL',
];

/** What rpm says is installed in `dir`, in our Package shape (gpg-pubkey left out, as we do). */
function oracle(dir: string): { packages: Package[]; files: string[] } {
  const packages: Package[] = [];
  for (const line of rpmQuery(dir, FIELDS.map((f) => `%{${f}}`).join('\\t') + '\\n')) {
    const [name, epoch, version, release, arch, sourceRpm, license, vendor, label] = line
      .split('\t')
      .map((v) => (v === '(none)' ? undefined : v));
    if (name === 'gpg-pubkey') continue;
    const e = epoch === undefined ? '' : Number(epoch) > 0 ? `${epoch}:` : '';
    const pkg: Package = {
      name: name!,
      version: `${e}${version}-${release}`,
      ecosystem: 'rpm',
      foundBy: 'os/rpm',
    };
    if (arch) pkg.arch = arch;
    const src = sourceRpm && /^(.+)-([^-]+-[^-]+)\.src\.rpm$/.exec(sourceRpm);
    if (src) [pkg.srcName, pkg.srcVersion] = [src[1]!, `${e}${src[2]}`];
    if (license) pkg.licenses = [license];
    const metadata = {
      ...(vendor && { vendor }),
      ...(label && { modularityLabel: label }),
      ...(epoch && { epoch: Number(epoch) }),
    };
    if (Object.keys(metadata).length > 0) pkg.metadata = metadata;
    packages.push(pkg);
  }
  const files = rpmQuery(dir, '[%{FILENAMES}\\n]')
    .filter((f) => f.startsWith('/'))
    .map((f) => f.replace(/^\/+/, ''))
    .filter((f) => f !== '');
  return { packages, files };
}

const byName = (a: Package, b: Package) =>
  `${a.name} ${a.version} ${a.arch}`.localeCompare(`${b.name} ${b.version} ${b.arch}`);

async function ours(
  path: string,
  bytes: Buffer,
): Promise<{ packages: Package[]; files: string[]; unknowns: unknown }> {
  const result = await rpmAnalyzer.analyze(inputFromBuffer(path, bytes));
  return {
    packages: [...(result.packages ?? [])].sort(byName),
    files: [...(result.ownedFiles ?? [])].sort(),
    unknowns: result.unknowns,
  };
}

function expectSame(actual: Awaited<ReturnType<typeof ours>>, expected: ReturnType<typeof oracle>): void {
  expect(actual.unknowns).toBeUndefined();
  expect(expected.packages.length).toBeGreaterThan(0);
  expect(actual.packages).toEqual([...expected.packages].sort(byName));
  expect(actual.files).toEqual([...new Set(expected.files)].sort());
}

describe.skipIf(!hasRpm || !hasRealdata)('rpm oracle: real databases', () => {
  test.each([
    ['gorpmdb-libuuid-Packages', 'Packages'],
    ['scalibr-Packages_epoch', 'Packages'],
    ['syft-Packages-bdb', 'Packages'],
    ['gorpmdb-cbl-mariner-2.0-rpmdb.sqlite', 'rpmdb.sqlite'],
  ])('%s', async (file, dbName) => {
    const dir = dbDir();
    copyFileSync(realdata(`pkgdb/rpm/${file}`), join(dir, dbName));
    expectSame(await ours(`var/lib/rpm/${dbName}`, readFileSync(join(dir, dbName))), oracle(dir));
  });

  test('gorpmdb-sle15-bci-Packages.db (ndb headers, read by rpm from an SQLite copy)', async () => {
    const bytes = readFileSync(realdata('pkgdb/rpm/gorpmdb-sle15-bci-Packages.db'));
    const blobs: Buffer[] = [];
    for await (const r of readNdb(bufferContent(bytes))) if (r.kind === 'blob') blobs.push(r.blob);
    const dir = dbDir();
    makeSqliteRpmdb(blobs, join(dir, 'rpmdb.sqlite'));
    expectSame(await ours('var/lib/rpm/Packages.db', bytes), oracle(dir));
  });
});

describe.skipIf(!hasRpm)('rpm oracle: headers written by the test fixture writer', () => {
  test('epoch 1 and an explicit epoch 0, modularity label, vendor, file list, gpg-pubkey', async () => {
    const blobs = [
      packageHeader(
        {
          name: 'nodejs',
          version: '18.16.1',
          release: '1.module+el9.2.0',
          epoch: 1,
          arch: 'x86_64',
          sourceRpm: 'nodejs-18.16.1-1.module+el9.2.0.src.rpm',
        },
        [
          { tag: 1011, type: 6, value: 'Red Hat, Inc.' },
          { tag: 1014, type: 6, value: 'MIT and ASL 2.0' },
          { tag: 5096, type: 6, value: 'nodejs:18:9020020230707:rhel9' },
          { tag: 1116, type: 4, value: [0, 0, 1] },
          { tag: 1117, type: 8, value: ['node', 'npm', 'README.md'] },
          { tag: 1118, type: 8, value: ['/usr/bin/', '/usr/share/doc/nodejs/'] },
        ],
      ),
      packageHeader({
        name: 'bash',
        version: '5.1.8',
        release: '6.el9',
        epoch: 0,
        arch: 'x86_64',
        sourceRpm: 'bash-5.1.8-6.el9.src.rpm',
      }),
      packageHeader({ name: 'gpg-pubkey', version: 'fd431d51', release: '4ae0493b' }),
    ];
    const dir = dbDir();
    const bytes = makeSqliteRpmdb(blobs, join(dir, 'rpmdb.sqlite'));
    expectSame(await ours('var/lib/rpm/rpmdb.sqlite', bytes), oracle(dir));
  });
});

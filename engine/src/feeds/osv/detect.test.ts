import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import type { Feed } from '../types.js';
import { detectGhsaApi, detectOsvFamily, topLevelKeys } from './detect.js';
import { almaFeed, ghsaFeed, osvFeed, rockyFeed, ubuntuFeed } from './index.js';
import { feed } from './testdata/support.js';

const FEEDS: [string, Feed][] = [
  ['osv', osvFeed],
  ['ubuntu', ubuntuFeed],
  ['almalinux', almaFeed],
  ['rocky', rockyFeed],
  ['ghsa', ghsaFeed],
];

/** The files an OSV-family feed claims; every other realdata feed file is claimed by none. */
const CLAIMED: Record<string, string> = {
  ...Object.fromEntries(
    [
      'osv/osvschema-CVE-2018-5407.json',
      'osv/osvschema-CVE-2023-41045.json',
      'osv/osvschema-GHSA-9v2f-6vcg-3hgv.json',
      'osv/osvschema-GO-2020-0001.json',
      'osv/osvschema-GO-2024-2963.json',
      'osv/osvschema-MAL-2024-10238.json',
      'osv/osvschema-PYSEC-2023-74.json',
      'osv/osvschema-RHSA-2022_0216.json',
      'osv/trivydb-GO-2024-2687.json',
      'osv/trivydb-GO-2025-3487.json',
      'osv/trivydb-JLSEC-2025-1.json',
      'osv/trivydb-PYSEC-2018-27.json',
      'osv/trivydb-PYSEC-2023-120.json',
      'osv/trivydb-k8s-CVE-2023-2728.json',
      'osv/vunnel-BIT-brotli-2020-8927.json',
      'osv/vunnel-GO-2023-1989.json',
      'ghsa/advisorydb-GHSA-2273-x2j3-xp63-unreviewed.json',
      'ghsa/advisorydb-GHSA-4v7x-pqxf-cx7m.json',
      'ghsa/advisorydb-GHSA-9wx4-h78v-vm56.json',
      'ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json',
      'ghsa/osvschema-ghsa-api-full_ranges.osv.json',
      'ghsa/trivydb-GHSA-266m-wp2v-x7mq.json',
      'ghsa/trivydb-GHSA-4v7x-pqxf-cx7m.json',
      'ghsa/trivydb-GHSA-75v8-2h7p-7m2m.json',
      'ghsa/trivydb-GHSA-7fj7-39wj-c64f.json',
      'ghsa/trivydb-GHSA-f5pg-7wfw-84q9.json',
      'ghsa/trivydb-GHSA-mp6f-p9gp-vpj9.json',
      'ghsa/trivydb-GHSA-wjx8-cgrm-hh8p.json',
      'ghsa/trivydb-GHSA-xx65-cc7g-9pfp.json',
      'wolfi/vunnel-CGA-224q-ccj5-2p53.json',
      'wolfi/vunnel-CGA-xcpc-gm23-prj9.json',
    ].map((f) => [f, 'osv']),
  ),
  'osv/vunnel-ALSA-2024_2433.json': 'almalinux',
  'osv/vunnel-RLSA-2024_3671.json': 'rocky',
  'ubuntu/vunnel-UBUNTU-CVE-2021-3782.json': 'ubuntu',
  'ubuntu/vunnel-UBUNTU-CVE-2022-24823-esm.json': 'ubuntu',
  'ubuntu/vunnel-USN-5614-1.json': 'ubuntu',
  'ghsa/osvschema-ghsa-api-full_ranges.json': 'ghsa',
  'ghsa/osvschema-ghsa-api-withdrawn.json': 'ghsa',
};

function claims(name: string, head: Buffer): string {
  const by = FEEDS.filter(([, f]) => f.detect({ name, head })).map(([n]) => n);
  return by.length ? by.join('+') : '-';
}

describe.skipIf(!hasRealdata)('detect on every realdata feed file', () => {
  const files: { rel: string; bytes: Buffer }[] = [];
  if (hasRealdata)
    for (const dir of readdirSync(realdata('feeds')))
      for (const f of readdirSync(realdata(`feeds/${dir}`))) {
        const path = join(realdata(`feeds/${dir}`), f);
        if (!statSync(path).isFile()) continue;
        const raw = readFileSync(path);
        // detect sees the first bytes already gunzipped
        files.push({ rel: `${dir}/${f}`, bytes: raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw });
      }

  it.each([256, 1024, 4096, Infinity])(
    'heads of %s bytes: OSV files go to their feed, the rest to none',
    (size) => {
      const got = Object.fromEntries(
        files.map(({ rel, bytes }) => [rel, claims(rel, bytes.subarray(0, size))]),
      );
      const want = Object.fromEntries(files.map(({ rel }) => [rel, CLAIMED[rel] ?? '-']));
      expect(got).toEqual(want);
    },
  );
});

describe.skipIf(!hasRealdata)('detect on export zips', () => {
  const zipOf = (name: string, rel: string) =>
    Buffer.from(zipSync({ [name]: [feed(rel).bytes, { level: 6 }], 'other.json': Buffer.from('{}') }));
  it.each([
    ['UBUNTU-CVE-2022-24823.json', 'ubuntu/vunnel-UBUNTU-CVE-2022-24823-esm.json', 'ubuntu'],
    ['USN-5614-1.json', 'ubuntu/vunnel-USN-5614-1.json', 'ubuntu'],
    ['ALSA-2024:2433.json', 'osv/vunnel-ALSA-2024_2433.json', 'almalinux'],
    ['RLSA-2024:3671.json', 'osv/vunnel-RLSA-2024_3671.json', 'rocky'],
    ['GHSA-c2qf-rxjj-qqgw.json', 'ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json', 'osv'],
    ['PYSEC-2023-120.json', 'osv/trivydb-PYSEC-2023-120.json', 'osv'],
  ])('%s first → %s', (name, rel, family) => {
    const zip = zipOf(name, rel);
    expect(claims('all.zip', zip.subarray(0, 4096))).toBe(family);
    // a head holding only the local header and the name: routed by the name's id prefix
    expect(claims('all.zip', zip.subarray(0, 30 + Buffer.byteLength(name)))).toBe(family);
  });

  it('a zip of other things is not claimed', () => {
    expect(claims('x.zip', Buffer.from(zipSync({ 'readme.txt': Buffer.from('hello') })))).toBe('-');
    expect(
      claims(
        'x.zip',
        Buffer.from(zipSync({ 'nvd.json': [feed('nvd/trivydb-CVE-2020-0001.json').bytes, { level: 6 }] })),
      ),
    ).toBe('-');
  });
});

describe('detect helpers', () => {
  it('topLevelKeys ignores nested keys and survives a cut head', () => {
    const keys = topLevelKeys(
      '{"cve": {"id": "CVE-1", "published": "x"}, "id" : "A-1", "n": 2, "s": "x\\"y", "arr": ["id"], "modified": "2',
    );
    expect(Object.fromEntries(keys)).toEqual({
      cve: undefined,
      id: 'A-1',
      n: undefined,
      s: 'x"y',
      arr: undefined,
      modified: undefined,
    });
    expect(
      detectOsvFamily(Buffer.from('{"cve": {"id": "CVE-1", "published": "x", "modified": "y"')),
    ).toBeUndefined();
    expect(detectOsvFamily(Buffer.from('{"schema_version": "1.7.0", "id": "USN-1-1", "details": "cut'))).toBe(
      'ubuntu',
    );
  });

  it('GitHub API bodies: REST pages and advisories, GraphQL advisories; not OSV GHSA files', () => {
    expect(detectGhsaApi(Buffer.from('[{"ghsa_id": "GHSA-aaaa-bbbb-cccc", "cve_id": null'))).toBe(true);
    expect(detectGhsaApi(Buffer.from('{"ghsaId": "GHSA-aaaa-bbbb-cccc"}'))).toBe(true);
    expect(detectGhsaApi(Buffer.from('{"id": "GHSA-aaaa-bbbb-cccc", "modified": "x"}'))).toBe(false);
    expect(
      detectGhsaApi(Buffer.from('[{"number": 1, "security_advisory": {"ghsa_id": "GHSA-aaaa-bbbb-cccc"}}]')),
    ).toBe(false);
  });
});

/**
 * Mutation fuzzing: parsers must never throw anything but ENG_FEED_FORMAT / ENG_FEED_TOO_LARGE on
 * a whole body, and every record they yield must be well formed.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { fuzz, prng } from '../../../../test/support/fuzz.js';
import { hasRealdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import type { FeedRecord } from '../types.js';
import { fileBody } from './body.js';
import { detectGhsaApi, detectOsvFamily } from './detect.js';
import { ghsaRangeToEvents } from './ghsa-range.js';
import { ghsaFeed, osvFeed, ubuntuFeed } from './index.js';
import { newOsvParseStats, parseOsvRecord } from './osv-record.js';
import { bufferBody, collect, feed } from './testdata/support.js';

const FEED_ERRORS = (e: unknown) =>
  isEngineError(e) && (e.code === 'ENG_FEED_FORMAT' || e.code === 'ENG_FEED_TOO_LARGE');
const OSV_FILES = [
  'ghsa/advisorydb-GHSA-2273-x2j3-xp63-unreviewed.json',
  'ghsa/advisorydb-GHSA-4v7x-pqxf-cx7m.json',
  'ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json',
  'ghsa/trivydb-GHSA-75v8-2h7p-7m2m.json',
  'osv/osvschema-CVE-2018-5407.json',
  'osv/osvschema-GO-2024-2963.json',
  'osv/osvschema-GHSA-9v2f-6vcg-3hgv.json',
  'osv/trivydb-PYSEC-2018-27.json',
  'osv/vunnel-ALSA-2024_2433.json',
  'osv/vunnel-RLSA-2024_3671.json',
  'osv/vunnel-BIT-brotli-2020-8927.json',
  'ubuntu/vunnel-UBUNTU-CVE-2021-3782.json',
  'ubuntu/vunnel-USN-5614-1.json',
  'wolfi/vunnel-CGA-224q-ccj5-2p53.json',
];
const REST = readFileSync(fileURLToPath(new URL('./testdata/ghsa-rest-advisory.json', import.meta.url)));

/** Throws when a record breaks the FeedRecord contract. */
function check(r: FeedRecord): void {
  const ok = (cond: unknown, what: string) => {
    if (!cond) throw new Error(`${what}: ${JSON.stringify(r).slice(0, 300)}`);
  };
  if (r.type === 'malformed')
    return ok(typeof r.message === 'string' && r.message, 'malformed without message');
  if (r.type === 'withdrawn') return ok(typeof r.id === 'string' && r.id, 'withdrawn without id');
  ok(r.type === 'vulnerability', 'unknown type');
  if (r.type !== 'vulnerability') return;
  const v = r.vulnerability;
  ok(typeof v.id === 'string' && v.id, 'id');
  for (const list of [v.aliases, v.cwes, v.references, v.related ?? []])
    ok(Array.isArray(list) && list.every((s) => typeof s === 'string'), 'string lists');
  ok(
    v.cvss.every((c) => typeof c.vector === 'string' && ['2.0', '3.0', '3.1', '4.0'].includes(c.version)),
    'cvss',
  );
  ok(
    v.vendorSeverities.every((s) => typeof s.rating === 'string' && typeof s.severity === 'string'),
    'vendor severities',
  );
  for (const a of r.affected) {
    ok(
      a.vulnId === v.id &&
        typeof a.namespace === 'string' &&
        typeof a.packageName === 'string' &&
        a.packageName,
      'row keys',
    );
    ok(['fixed', 'unfixed'].includes(a.fixState), 'fix state');
    ok(
      a.ranges.every(
        (g) =>
          ['ECOSYSTEM', 'SEMVER', 'GIT'].includes(g.type) &&
          g.events.every((e) => Object.values(e).every((x) => typeof x === 'string')),
      ),
      'ranges',
    );
    ok(a.fixedVersion === undefined || typeof a.fixedVersion === 'string', 'fixed version');
  }
}

/** Structure-aware mutation: replaces, deletes or retypes one random node of a JSON value. */
function mutateJson(value: unknown, rand: () => number): unknown {
  const junk = [
    null,
    0,
    -1,
    1e308,
    '',
    'x',
    '0',
    ' ',
    [],
    {},
    [null],
    { type: 'GIT' },
    true,
    'CVSS:3.1/',
    'Ubuntu:Pro:x',
    'npm',
    'PyPI',
  ];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const clone = structuredClone(value);
  const paths: (string | number)[][] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(node)) node.forEach((c, i) => walk(c, [...path, i]));
    else if (node && typeof node === 'object')
      for (const [k, c] of Object.entries(node)) walk(c, [...path, k]);
  };
  walk(clone, []);
  const path = pick(paths);
  if (path.length === 0) return pick(junk);
  type Node = Record<string | number, unknown> & unknown[];
  let parent = clone as Node;
  for (const p of path.slice(0, -1)) parent = parent[p as number] as Node;
  const key = path[path.length - 1]!;
  const r = rand();
  if (r < 0.2 && !Array.isArray(parent)) delete parent[key];
  else if (r < 0.3 && Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (r < 0.4) parent[key] = [parent[key], parent[key]];
  else parent[key] = pick(junk);
  return clone;
}

describe.skipIf(!hasRealdata)('fuzzing the OSV parser', () => {
  const seeds = hasRealdata ? OSV_FILES.map((f) => feed(f).bytes) : [];

  it('10,000 byte mutations of real records through parse()', async () => {
    const failures = await fuzz(
      seeds,
      10_000,
      async (input) => {
        for (const r of await collect(osvFeed.parse(bufferBody(input, 'fuzz', 512)))) check(r);
      },
      { seed: 11, allowed: FEED_ERRORS },
    );
    expect(failures).toEqual([]);
  });

  it('10,000 structure mutations of real records through the record mapper', async () => {
    const docs = seeds.map((b) => JSON.parse(b.toString('utf8')));
    const rand = prng(12);
    const failures: unknown[] = [];
    for (let i = 0; i < 10_000 && failures.length < 5; i++) {
      let doc: unknown = docs[i % docs.length];
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) doc = mutateJson(doc, rand);
      try {
        const stats = newOsvParseStats();
        check(parseOsvRecord(doc, { stats, family: i % 2 ? 'ubuntu' : 'osv' }));
        if (stats.records !== 1) throw new Error('stats not counted');
      } catch (error) {
        failures.push({ i, error: String(error), doc: JSON.stringify(doc).slice(0, 300) });
      }
    }
    expect(failures).toEqual([]);
  });

  it('2,000 mutations of an export zip (read through a file body)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-osv-fuzz-'));
    try {
      const zip = Buffer.from(
        zipSync({
          'GHSA-c2qf-rxjj-qqgw.json': [seeds[2]!, { level: 6 }],
          'GO-2024-2963.json': [seeds[5]!, { level: 0 }],
          'UBUNTU-CVE-2021-3782.json': [seeds[11]!, { level: 9 }],
        }),
      );
      let n = 0;
      const failures = await fuzz(
        [zip],
        2_000,
        async (input) => {
          const path = join(dir, `${n++ % 4}.zip`);
          await writeFile(path, input);
          for (const r of await collect(ubuntuFeed.parse(fileBody(path)))) check(r);
        },
        { seed: 13, allowed: FEED_ERRORS },
      );
      expect(failures).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('10,000 mutated heads through detect (never throws)', async () => {
    const zip = Buffer.from(zipSync({ 'UBUNTU-CVE-2021-3782.json': [seeds[11]!, { level: 9 }] }));
    const failures = await fuzz(
      [...seeds.map((s) => s.subarray(0, 2048)), zip.subarray(0, 2048), REST],
      10_000,
      (input) => {
        const family = detectOsvFamily(input);
        if (family !== undefined && !['osv', 'ubuntu', 'almalinux', 'rocky'].includes(family))
          throw new Error(String(family));
        detectGhsaApi(input);
      },
    );
    expect(failures).toEqual([]);
  });
});

describe('fuzzing the GitHub side', () => {
  const ranges = [
    '>= 2.5.0, < 2.5.16',
    '>= 3.2.0, < 3.2.22',
    '>= 4.0.0, < 4.1.11',
    '= 0.2.0',
    '<= 1.0.8',
    '< 0.1.11',
    '>= 0.0.1',
    '> 2.1.1, < 5.0.1',
    '>= 3.1.1-canary.20211030, < 3.5.3',
  ].map((s) => Buffer.from(s));

  it('10,000 mutations of range strings through the converter', async () => {
    const failures = await fuzz(
      ranges,
      10_000,
      (input) => {
        const text = input.toString('utf8');
        for (const patched of [null, '1.2.3', text.slice(0, 5)]) {
          const r = ghsaRangeToEvents(text, patched);
          if (!r.ok) {
            if (!r.message) throw new Error('error without message');
            continue;
          }
          const values = [
            ...r.versions,
            ...r.ranges.flatMap((g) => g.events.flatMap((e) => Object.values(e))),
          ];
          if (values.some((v) => typeof v !== 'string' || v === '' || /[\s,]/.test(v)))
            throw new Error(`bad value in ${JSON.stringify(r)}`);
          if (r.ranges.length + r.versions.length === 0) throw new Error('nothing affected');
          if (!['fixed', 'unfixed'].includes(r.fixState)) throw new Error(r.fixState);
        }
      },
      { seed: 21 },
    );
    expect(failures).toEqual([]);
  });

  it('5,000 byte mutations of REST and GraphQL advisories through parse()', async () => {
    const seeds: Buffer[] = [REST, Buffer.from(`[${REST.toString()},${REST.toString()}]`)];
    if (hasRealdata)
      seeds.push(
        feed('ghsa/osvschema-ghsa-api-full_ranges.json').bytes,
        feed('ghsa/osvschema-ghsa-api-withdrawn.json').bytes,
      );
    const failures = await fuzz(
      seeds,
      5_000,
      async (input) => {
        for (const r of await collect(ghsaFeed.parse(bufferBody(input)))) check(r);
      },
      { seed: 22, allowed: FEED_ERRORS },
    );
    expect(failures).toEqual([]);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import { expectedRecords, type Secfixes } from '../alpine/testdata/expected.js';
import { startReplayServer, type ReplayServer } from '../alpine/testdata/replay-server.js';
import type { Feed, FeedBody, FeedRecord } from '../types.js';
import { chainguardFeed, wolfiFeed } from './index.js';

const bufferBody = (buf: Buffer | string, name = 'security.json'): FeedBody => ({
  name,
  open: async () => Readable.from([Buffer.from(buf)]),
});

async function parseAll(feed: Feed, body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of feed.parse(body)) out.push(r);
  return out;
}

// The secfixes of the realdata files, package by package, as the files list them.
const WOLFI: Secfixes = {
  binutils: { '2.39-r1': ['CVE-2022-38126'], '2.39-r2': ['CVE-2022-38533'], '2.39-r3': ['CVE-2022-38128'] },
  brotli: { '1.0.9-r0': ['CVE-2020-8927'] },
  busybox: { '1.35.0-r3': ['CVE-2022-28391', 'CVE-2022-30065'] },
  coreutils: { '0': ['CVE-2016-2781'] },
  cups: { '2.4.2-r0': ['CVE-2022-26691'] },
  curl: { '7.86.0-r0': ['CVE-2022-42916', 'CVE-2022-32221'] },
  dbus: { '1.14.4-r0': ['CVE-2022-42010', 'CVE-2022-42011', 'CVE-2022-42012'] },
  expat: { '2.4.9-r0': ['CVE-2022-40674'], '2.5.0-r0': ['CVE-2022-43680'] },
  flex: { '0': ['CVE-2019-6293'] },
  freetype: { '2.12.1-r0': ['CVE-2022-27404', 'CVE-2022-27405', 'CVE-2022-27406'] },
  giflib: { '5.2.1-r0': ['CVE-2022-28506'] },
  git: { '2.38.1-r0': ['CVE-2022-39253', 'CVE-2022-39260'] },
  glibc: { '2.36-r1': ['CVE-2022-39046'] },
  gmp: { '6.2.1-r4': ['CVE-2021-43618'] },
  go: { '1.19.3-r0': ['CVE-2022-41716'], '1.19.4-r0': ['CVE-2022-41717', 'CVE-2022-41720'] },
  libarchive: { '3.6.1-r2': ['CVE-2022-36227'] },
  libxml2: { '2.10.3-r0': ['CVE-2022-40303', 'CVE-2022-40304'] },
  ncurses: { '6.3-r0': ['CVE-2022-29458'] },
  openssl: { '3.0.7-r0': ['CVE-2022-3358', 'CVE-2022-3602', 'CVE-2022-3786'] },
  patch: {
    '2.7.6-r3': [
      'CVE-2019-20633',
      'CVE-2018-1000156',
      'CVE-2019-13638',
      'CVE-2018-20969',
      'CVE-2019-13636',
      'CVE-2018-6951',
      'CVE-2018-6952',
    ],
  },
  pcre2: { '10.40-r0': ['CVE-2022-1586', 'CVE-2022-1587'] },
  'postgresql-15': { '0': ['CVE-2017-8806'] },
  python3: { '3.0.7-r0': ['CVE-2020-10735'] },
  samurai: { '1.2-r0': ['CVE-2021-30218', 'CVE-2021-30219'] },
  sqlite: { '3.40.0-r1': ['CVE-2022-46908'] },
  zlib: { '1.2.12-r0': ['CVE-2018-25032'], '1.2.12-r3': ['CVE-2022-37434'] },
  apko: {
    '0': ['CVE-2023-45283', 'CVE-2023-45284', 'GHSA-jq35-85cj-fj4p'],
    '0.10.0-r6': ['CVE-2023-39325', 'CVE-2023-3978'],
    '0.7.3-r1': ['CVE-2023-28840', 'CVE-2023-28841', 'CVE-2023-28842'],
    '0.8.0-r1': ['CVE-2023-30551'],
  },
};

const CHAINGUARD: Secfixes = {
  grafana: {
    '7.5.19-r0': ['CVE-2021-36156', 'CVE-2022-31130', 'CVE-2022-31107', 'CVE-2022-39201', 'CVE-2022-31123'],
  },
  bind: {
    '9.18.10-r0': [
      'CVE-2022-2795',
      'CVE-2022-2881',
      'CVE-2022-2906',
      'CVE-2022-3080',
      'CVE-2022-38177',
      'CVE-2022-38178',
      'CVE-2022-0396',
      'CVE-2021-25220',
      'CVE-2021-25219',
      'CVE-2021-25218',
      'CVE-2021-25214',
      'CVE-2021-25215',
      'CVE-2021-25216',
      'CVE-2020-8625',
      'CVE-2020-8620',
      'CVE-2020-8621',
      'CVE-2020-8622',
      'CVE-2020-8623',
      'CVE-2020-8624',
      'CVE-2020-8618',
      'CVE-2020-8619',
      'CVE-2020-8616',
      'CVE-2020-8617',
      'CVE-2019-6477',
      'CVE-2019-6475',
      'CVE-2019-6476',
      'CVE-2019-6471',
      'CVE-2019-6467',
      'CVE-2018-5743',
      'CVE-2019-6465',
      'CVE-2018-5745',
      'CVE-2018-5744',
      'CVE-2018-5740',
      'CVE-2018-5738',
      'CVE-2018-5737',
      'CVE-2018-5736',
      'CVE-2017-3145',
      'CVE-2017-3136',
      'CVE-2017-3137',
      'CVE-2017-3138',
      'CVE-2016-9131',
      'CVE-2016-9147',
      'CVE-2016-9444',
      'CVE-2019-6470',
    ],
    '9.18.11-r0': ['CVE-2022-3094', 'CVE-2022-3736', 'CVE-2022-3924'],
  },
  binutils: { '2.39-r1': ['CVE-2022-38126'], '2.39-r2': ['CVE-2022-38533'], '2.39-r3': ['CVE-2022-38128'] },
  brotli: { '1.0.9-r0': ['CVE-2020-8927'] },
  busybox: { '1.35.0-r3': ['CVE-2022-28391', 'CVE-2022-30065'] },
  coreutils: { '0': ['CVE-2016-2781'] },
  cups: { '2.4.2-r0': ['CVE-2022-26691'] },
  curl: {
    '7.86.0-r0': ['CVE-2022-42916', 'CVE-2022-32221'],
    '7.87.0-r0': ['CVE-2022-43551', 'CVE-2022-43552'],
  },
  dbus: { '1.14.4-r0': ['CVE-2022-42010', 'CVE-2022-42011', 'CVE-2022-42012'] },
  deno: { '1.30.0-r0': ['CVE-2023-22499'] },
  expat: { '2.4.9-r0': ['CVE-2022-40674'], '2.5.0-r0': ['CVE-2022-43680'] },
  flex: { '0': ['CVE-2019-6293'] },
  freetype: { '2.12.1-r0': ['CVE-2022-27404', 'CVE-2022-27405', 'CVE-2022-27406'] },
  giflib: { '5.2.1-r0': ['CVE-2022-28506'] },
  git: {
    '0': ['CVE-2023-22743'],
    '2.38.1-r0': ['CVE-2022-39253', 'CVE-2022-39260'],
    '2.39.1-r0': ['CVE-2022-23521', 'CVE-2022-41903'],
    '2.39.2-r0': ['CVE-2023-22490', 'CVE-2023-23946'],
  },
  glibc: {
    '0': ['CVE-2019-1010022', 'CVE-2019-1010023', 'CVE-2019-1010024', 'CVE-2019-1010025', 'CVE-2010-4756'],
    '2.36-r1': ['CVE-2022-39046'],
    '2.37-r1': ['CVE-2023-25139'],
  },
  gmp: { '6.2.1-r4': ['CVE-2021-43618'] },
  gnupg: { '2.2.41-r0': ['CVE-2022-34903', 'CVE-2020-25125', 'CVE-2019-14855', 'CVE-2018-12020'] },
  gnutls: {
    '3.7.8-r0': [
      'CVE-2022-2509',
      'CVE-2021-20231',
      'CVE-2021-20232',
      'CVE-2020-24659',
      'CVE-2020-13777',
      'CVE-2020-11501',
      'CVE-2019-3836',
      'CVE-2019-3829',
      'CVE-2017-7507',
    ],
  },
  'go-1.19': {
    '0': ['CVE-2020-29509'],
    '1.19.3-r0': ['CVE-2022-41716'],
    '1.19.4-r0': ['CVE-2022-41717', 'CVE-2022-41720'],
    '1.19.6-r1': ['CVE-2022-41723'],
    '1.19.7-r0': ['CVE-2023-24532'],
  },
  'go-1.20': {
    '0': ['CVE-2020-29509', 'CVE-2020-29511'],
    '1.20.1-r1': ['CVE-2022-41723'],
    '1.20.2-r0': ['CVE-2023-24532'],
  },
  haproxy: { '0': ['CVE-2016-2102'], '2.6.9-r0': ['CVE-2023-25725'] },
  heimdal: { '7.8.0-r1': ['CVE-2022-45142'] },
  helm: { '3.11.1-r0': ['CVE-2023-25165'] },
  jenkins: { '2.394-r0': ['CVE-2023-27898'] },
  libarchive: { '3.6.1-r2': ['CVE-2022-36227'] },
  libidn2: { '2.3.4-r0': ['CVE-2019-12290', 'CVE-2019-18224'] },
  libksba: { '1.6.3-r0': ['CVE-2022-47629', 'CVE-2022-3515'] },
  libtasn1: { '4.19.0-r0': ['CVE-2021-46848'] },
  libxml2: { '2.10.3-r0': ['CVE-2022-40303', 'CVE-2022-40304'] },
  libxpm: { '3.5.15-r0': ['CVE-2022-44617'] },
  'lua5.4': { '5.4.4-r0': ['CVE-2022-28805', 'CVE-2019-6706'] },
  'mariadb-10.11': { '10.6.12-r1': ['CVE-2022-47015'] },
  'mariadb-10.6': { '10.6.12-r1': ['CVE-2022-47015'] },
  ncurses: { '6.3-r0': ['CVE-2022-29458'] },
  nettle: { '3.8.1-r0': ['CVE-2021-3580', 'CVE-2021-20305'] },
  openssh: { '9.2_p1-r0': ['CVE-2023-25136'] },
  openssl: {
    '3.0.7-r0': ['CVE-2022-3358', 'CVE-2022-3602', 'CVE-2022-3786'],
    '3.0.7-r1': ['CVE-2022-3996'],
    '3.0.8-r0': [
      'CVE-2023-0286',
      'CVE-2022-4304',
      'CVE-2022-4203',
      'CVE-2023-0215',
      'CVE-2022-4450',
      'CVE-2023-0216',
      'CVE-2023-0217',
      'CVE-2023-0401',
    ],
    '3.1.0-r1': ['CVE-2023-0464'],
  },
  patch: {
    '2.7.6-r3': [
      'CVE-2019-20633',
      'CVE-2018-1000156',
      'CVE-2019-13638',
      'CVE-2018-20969',
      'CVE-2019-13636',
      'CVE-2018-6951',
      'CVE-2018-6952',
    ],
  },
  pcre2: { '10.40-r0': ['CVE-2022-1586', 'CVE-2022-1587'] },
  php: { '0': ['CVE-2007-2728', 'CVE-2007-3205', 'CVE-2007-4596'], '8.1.13-r0': ['CVE-2022-31630'] },
  pkgconf: { '1.9.4-r0': ['CVE-2023-24056'] },
  'postgresql-15': { '0': ['CVE-2017-8806'], '15.2-r0': ['CVE-2022-41862'] },
  'protobuf-c': { '1.4.1-r0': ['CVE-2022-33070', 'CVE-2021-3121'] },
  'python-3.10': { '0': ['CVE-2007-4559'], '3.10.9-r0': ['CVE-2020-10735'] },
  'python-3.11': { '0': ['CVE-2007-4559'], '3.0.7-r0': ['CVE-2020-10735'] },
  'python-3.12': { '0': ['CVE-2007-4559'], '3.0.7-r0': ['CVE-2020-10735'] },
  redis: {
    '7.0.7-r0': ['CVE-2022-0543', 'CVE-2022-3734', 'CVE-2022-3647'],
    '7.0.8-r0': ['CVE-2022-35977', 'CVE-2023-22458'],
    '7.0.9-r0': ['CVE-2022-36021', 'CVE-2023-25155'],
  },
  'ruby-3.0': { '3.0.5-r0': ['CVE-2021-33621'] },
  'ruby3.2-fluentd14': { '1.14.6-r3': ['CVE-2022-39379'] },
  samurai: { '1.2-r0': ['CVE-2021-30218', 'CVE-2021-30219'] },
  sqlite: { '3.40.0-r1': ['CVE-2022-46908'] },
  traefik: {
    '2.9.6-r0': ['CVE-2022-23469', 'CVE-2022-46153'],
    '2.9.8-r1': ['CVE-2021-41803', 'CVE-2022-40716'],
  },
  vault: { '1.12.4-r0': ['CVE-2023-24999'] },
  vim: {
    '9.0.1378-r0': ['CVE-2023-1127', 'CVE-2023-1175'],
    '9.0.1392-r0': ['CVE-2023-1264'],
    '9.0.1402-r0': ['CVE-2023-1355'],
  },
  wasmtime: { '6.0.1-r0': ['CVE-2023-26489', 'CVE-2023-27477'] },
  zlib: { '1.2.12-r0': ['CVE-2018-25032'], '1.2.12-r3': ['CVE-2022-37434'] },
};

describe.skipIf(!hasRealdata)('wolfi and chainguard secdb: realdata', () => {
  it.each([
    [wolfiFeed, 'feeds/wolfi/vunnel-wolfi-security.json', 'os', WOLFI],
    [chainguardFeed, 'feeds/wolfi/vunnel-chainguard-security.json', 'chainguard', CHAINGUARD],
  ])('%s maps %s', async (feed, file, repository, fixes) => {
    const records = await parseAll(feed, bufferBody(await readFile(realdata(file)), file));
    expect(records).toEqual(expectedRecords(fixes, feed.name, repository));
  });

  it('keeps a GHSA id of a "0" entry as a not-affected record (wolfi apko)', async () => {
    const records = await parseAll(
      wolfiFeed,
      bufferBody(await readFile(realdata('feeds/wolfi/vunnel-wolfi-security.json'))),
    );
    expect(
      records.find((r) => r.type === 'vulnerability' && r.vulnerability.id === 'GHSA-jq35-85cj-fj4p'),
    ).toEqual({
      type: 'vulnerability',
      vulnerability: {
        id: 'GHSA-jq35-85cj-fj4p',
        aliases: [],
        cvss: [],
        vendorSeverities: [],
        cwes: [],
        references: [],
      },
      affected: [
        {
          vulnId: 'GHSA-jq35-85cj-fj4p',
          namespace: 'wolfi',
          packageName: 'apko',
          fixState: 'not-affected',
          ranges: [],
          extra: { repository: 'os' },
        },
      ],
    });
  });

  it('gives one record with a row per package for a CVE fixed in two packages (chainguard mariadb)', async () => {
    const records = await parseAll(
      chainguardFeed,
      bufferBody(await readFile(realdata('feeds/wolfi/vunnel-chainguard-security.json'))),
    );
    const row = (packageName: string) => ({
      vulnId: 'CVE-2022-47015',
      namespace: 'chainguard',
      packageName,
      fixState: 'fixed',
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '10.6.12-r1' }] }],
      fixedVersion: '10.6.12-r1',
      extra: { repository: 'chainguard' },
    });
    expect(
      records.filter((r) => r.type === 'vulnerability' && r.vulnerability.id === 'CVE-2022-47015'),
    ).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2022-47015',
          aliases: [],
          cvss: [],
          vendorSeverities: [],
          cwes: [],
          references: [],
        },
        affected: [row('mariadb-10.11'), row('mariadb-10.6')],
      },
    ]);
  });

  it.each([
    ['feeds/wolfi/vunnel-wolfi-security.json', true, false],
    ['feeds/wolfi/vunnel-chainguard-security.json', false, true],
    // MinimOS publishes the same shape from packages.mini.dev: neither
    ['feeds/wolfi/vunnel-minimos-security.json', false, false],
    ['feeds/wolfi/vunnel-chainguard-osv-all.json', false, false],
    ['feeds/wolfi/vunnel-CGA-224q-ccj5-2p53.json', false, false],
    ['feeds/alpine/claircore-secdb-v3.10-community.json', false, false],
  ])('detect(%s): wolfi %s, chainguard %s', async (file, wolfi, chainguard) => {
    const head = (await readFile(realdata(file))).subarray(0, 4096);
    expect([wolfiFeed.detect({ name: file, head }), chainguardFeed.detect({ name: file, head })]).toEqual([
      wolfi,
      chainguard,
    ]);
  });

  it('refuses an Alpine release secdb with ENG_FEED_FORMAT', async () => {
    const buf = await readFile(realdata('feeds/alpine/claircore-secdb-v3.10-community.json'));
    const error = await parseAll(wolfiFeed, bufferBody(buf)).catch((e: unknown) => e);
    expect(isEngineError(error) && error.code).toBe('ENG_FEED_FORMAT');
  });

  it('never throws anything but ENG_FEED_FORMAT on mutated secdb documents', async () => {
    const wolfi = await readFile(realdata('feeds/wolfi/vunnel-wolfi-security.json'));
    // small seeds keep the 10,000 runs fast: the first packages of each file
    const small = (doc: Buffer, n: number) => {
      const d = JSON.parse(doc.toString()) as { packages: unknown[] };
      return Buffer.from(JSON.stringify({ ...d, packages: d.packages.slice(0, n) }, null, 1));
    };
    const cg = await readFile(realdata('feeds/wolfi/vunnel-chainguard-security.json'));
    const failures = await fuzz(
      [small(wolfi, 6), small(cg, 4), Buffer.from(wolfi.toString().slice(-900))],
      10_000,
      async (input) => {
        await parseAll(wolfiFeed, bufferBody(input));
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
  });
});

describe('wolfi secdb: entries', () => {
  it('keeps CVEs over GHSA ids in one entry, GHSA-only entries, and reports id-less ones', async () => {
    const file = join(dirname(fileURLToPath(import.meta.url)), 'testdata', 'security-synthetic.json');
    const head = await readFile(file);
    expect(wolfiFeed.detect({ name: file, head })).toBe(true);
    const fixedRow = (vulnId: string, packageName: string, v: string) => ({
      vulnId,
      namespace: 'wolfi',
      packageName,
      fixState: 'fixed',
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: v }] }],
      fixedVersion: v,
      extra: { repository: 'os' },
    });
    const vuln = (id: string) => ({
      id,
      aliases: [],
      cvss: [],
      vendorSeverities: [],
      cwes: [],
      references: [],
    });
    expect(await parseAll(wolfiFeed, bufferBody(head))).toEqual([
      { type: 'malformed', message: 'no id in see upstream', ref: 'tool/1.2.4-r0' },
      {
        type: 'vulnerability',
        vulnerability: vuln('GHSA-aaaa-bbbb-cccc'),
        affected: [
          {
            vulnId: 'GHSA-aaaa-bbbb-cccc',
            namespace: 'wolfi',
            packageName: 'tool',
            fixState: 'not-affected',
            ranges: [],
            extra: { repository: 'os' },
          },
        ],
      },
      {
        type: 'vulnerability',
        vulnerability: vuln('CVE-2024-1111'),
        affected: [fixedRow('CVE-2024-1111', 'tool', '1.2.3-r1'), fixedRow('CVE-2024-1111', 'lib', '2.0-r0')],
      },
      {
        type: 'vulnerability',
        vulnerability: vuln('GHSA-gggg-hhhh-iiii'),
        affected: [fixedRow('GHSA-gggg-hhhh-iiii', 'tool', '1.2.3-r1')],
      },
    ]);
  });
});

describe.skipIf(!hasRealdata)('wolfi and chainguard secdb: fetch against a loopback server', () => {
  let server: ReplayServer;
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'vigil-wolfi-'));
  });
  afterEach(async () => {
    await server?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('fetches each security.json conditionally', async () => {
    server = await startReplayServer({
      '/os/security.json': {
        body: await readFile(realdata('feeds/wolfi/vunnel-wolfi-security.json')),
        etag: '"w1"',
      },
      '/chainguard/security.json': [
        { status: 503, headers: { 'retry-after': '0' } },
        { body: await readFile(realdata('feeds/wolfi/vunnel-chainguard-security.json')), etag: '"c1"' },
      ],
    });
    const wolfi = await wolfiFeed.fetch({ baseUrl: `${server.url}/os/`, workDir });
    const chainguard = await chainguardFeed.fetch({ baseUrl: `${server.url}/chainguard`, workDir });
    expect([wolfi, chainguard]).toEqual([
      {
        status: 'updated',
        mode: 'full',
        checkpoint: {
          'security.json#etag': '"w1"',
          'security.json#sha256': expect.stringMatching(/^[0-9a-f]{64}$/),
        },
        bodies: [{ name: join(workDir, 'wolfi', 'security.json'), open: expect.any(Function) }],
      },
      {
        status: 'updated',
        mode: 'full',
        checkpoint: {
          'security.json#etag': '"c1"',
          'security.json#sha256': expect.stringMatching(/^[0-9a-f]{64}$/),
        },
        bodies: [{ name: join(workDir, 'chainguard', 'security.json'), open: expect.any(Function) }],
      },
    ]);
    if (wolfi.status !== 'updated' || chainguard.status !== 'updated') throw new Error('unreachable');
    expect((await parseAll(wolfiFeed, wolfi.bodies[0]!)).length).toBe(
      expectedRecords(WOLFI, 'wolfi', 'os').length,
    );
    expect(
      await wolfiFeed.fetch({ baseUrl: `${server.url}/os/`, workDir, checkpoint: wolfi.checkpoint }),
    ).toEqual({
      status: 'unchanged',
    });
    expect(
      await chainguardFeed.fetch({
        baseUrl: `${server.url}/chainguard/`,
        workDir,
        checkpoint: chainguard.checkpoint,
      }),
    ).toEqual({ status: 'unchanged' });
    expect(server.requests.map((r) => [r.path, r.headers['if-none-match'] ?? null])).toEqual([
      ['/os/security.json', null],
      ['/chainguard/security.json', null],
      ['/chainguard/security.json', null],
      ['/os/security.json', '"w1"'],
      ['/chainguard/security.json', '"c1"'],
    ]);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import type { AffectedPackage } from '../../model/vulnerability.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { alpineFeed, createAlpineFeed } from './index.js';
import { parseReleaseIndex } from './releases.js';
import { expectedRecords, type Secfixes } from './testdata/expected.js';
import { startReplayServer, type ReplayServer } from './testdata/replay-server.js';

const bufferBody = (buf: Buffer | string, name = 'secdb.json'): FeedBody => ({
  name,
  open: async () => Readable.from([Buffer.from(buf)]),
});

async function parseAll(body: FeedBody, feed = alpineFeed): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of feed.parse(body)) out.push(r);
  return out;
}

const fileBody = async (rel: string) => bufferBody(await readFile(realdata(rel)), rel);

const V310_MAIN: Secfixes = {
  'apk-tools': {
    '2.10.6-r0': ['CVE-2021-30139'],
    '2.10.7-r0': ['CVE-2021-36159'],
    '2.7.2-r0': ['CVE-2017-9669', 'CVE-2017-9671'],
  },
  busybox: {
    '1.27.2-r4': ['CVE-2017-16544', 'CVE-2017-15873', 'CVE-2017-15874'],
    '1.28.3-r2': ['CVE-2018-1000500'],
    '1.29.3-r10': ['CVE-2018-20679'],
    '1.30.1-r2': ['CVE-2019-5747'],
    '1.30.1-r5': ['CVE-2021-28831'],
  },
  musl: { '1.1.15-r4': ['CVE-2016-8859'], '1.1.22-r3': ['CVE-2019-14697'], '1.1.22-r4': ['CVE-2020-28928'] },
  openssl: {
    '1.1.1a-r0': ['CVE-2018-0734', 'CVE-2018-0735'],
    '1.1.1b-r1': ['CVE-2019-1543'],
    '1.1.1d-r0': ['CVE-2019-1547', 'CVE-2019-1549', 'CVE-2019-1563'],
    '1.1.1d-r2': ['CVE-2019-1551'],
    '1.1.1g-r0': ['CVE-2020-1967'],
    '1.1.1i-r0': ['CVE-2020-1971'],
    '1.1.1j-r0': ['CVE-2021-23841', 'CVE-2021-23840', 'CVE-2021-23839'],
    '1.1.1k-r0': ['CVE-2021-3449', 'CVE-2021-3450'],
  },
};

const V311_MAIN: Secfixes = {
  'apk-tools': V310_MAIN['apk-tools']!,
  busybox: {
    '0': ['CVE-2021-42373', 'CVE-2021-42375', 'CVE-2021-42376', 'CVE-2021-42377'],
    '1.27.2-r4': ['CVE-2017-16544', 'CVE-2017-15873', 'CVE-2017-15874'],
    '1.28.3-r2': ['CVE-2018-1000500'],
    '1.29.3-r10': ['CVE-2018-20679'],
    '1.30.1-r2': ['CVE-2019-5747'],
    '1.31.1-r10': ['CVE-2021-28831'],
    '1.31.1-r11': [
      'CVE-2021-42374',
      'CVE-2021-42378',
      'CVE-2021-42379',
      'CVE-2021-42380',
      'CVE-2021-42381',
      'CVE-2021-42382',
      'CVE-2021-42383',
      'CVE-2021-42384',
      'CVE-2021-42385',
      'CVE-2021-42386',
    ],
  },
  musl: { '1.1.15-r4': ['CVE-2016-8859'], '1.1.23-r2': ['CVE-2019-14697'], '1.1.24-r3': ['CVE-2020-28928'] },
  openssl: {
    '1.1.1a-r0': ['CVE-2018-0734', 'CVE-2018-0735'],
    '1.1.1b-r1': ['CVE-2019-1543'],
    '1.1.1d-r1': ['CVE-2019-1547', 'CVE-2019-1549', 'CVE-2019-1563'],
    '1.1.1d-r3': ['CVE-2019-1551'],
    '1.1.1g-r0': ['CVE-2020-1967'],
    '1.1.1i-r0': ['CVE-2020-1971'],
    '1.1.1j-r0': ['CVE-2021-23841', 'CVE-2021-23840', 'CVE-2021-23839'],
    '1.1.1k-r0': ['CVE-2021-3449', 'CVE-2021-3450'],
    '1.1.1l-r0': ['CVE-2021-3711', 'CVE-2021-3712'],
  },
  zlib: { '1.2.11-r4': ['CVE-2022-37434'] },
};

describe.skipIf(!hasRealdata)('alpine secdb: realdata', () => {
  it.each([
    [
      'feeds/alpine/claircore-secdb-v3.10-community.json',
      'alpine:3.10',
      'community',
      {
        botan: {
          '2.9.0-r0': ['CVE-2018-20187'],
          '2.7.0-r0': ['CVE-2018-12435'],
          '2.6.0-r0': ['CVE-2018-9860'],
          '2.5.0-r0': ['CVE-2018-9127'],
        },
        cfengine: { '3.12.2-r0': ['CVE-2019-9929'] },
        chicken: {
          '4.12.0-r3': ['CVE-2017-6949'],
          '4.12.0-r2': ['CVE-2017-9334'],
          '4.11.1-r0': ['CVE-2016-6830', 'CVE-2016-6831'],
        },
      },
      9,
    ],
    ['feeds/alpine/vulnlist-secdb-v3.10-main-image-subset.json', 'alpine:3.10', 'main', V310_MAIN, 28],
    // busybox's "0" key: CVEs that never affected Alpine's busybox
    ['feeds/alpine/vulnlist-secdb-v3.11-main-image-subset.json', 'alpine:3.11', 'main', V311_MAIN, 45],
    [
      'feeds/alpine/vunnel-secdb-v3.15-community.yaml',
      'alpine:3.15',
      'community',
      {
        advancecomp: { '2.1-r2': ['CVE-2019-9210'] },
        alpine: { '2.23-r0': ['CVE-2020-14929'], '2.25-r0': ['CVE-2021-38370'] },
      },
      3,
    ],
    [
      'feeds/alpine/vunnel-secdb-v3.15-main.yaml',
      'alpine:3.15',
      'main',
      {
        xz: { '5.2.5-r1': ['CVE-2022-1271'] },
        zeromq: {
          '4.3.1-r0': ['CVE-2019-6250'],
          '4.3.2-r0': ['CVE-2019-13132'],
          '4.3.3-r0': ['CVE-2020-15166'],
        },
        zlib: { '1.2.12-r0': ['CVE-2018-25032'], '1.2.12-r2': ['CVE-2022-37434'] },
        zsh: {
          '5.4.2-r1': ['CVE-2018-1083', 'CVE-2018-1071'],
          '5.8-r0': ['CVE-2019-20044'],
          '5.8.1-r0': ['CVE-2021-45444'],
        },
        zstd: {
          '1.3.8-r0': ['CVE-2019-11922'],
          '1.4.1-r0': ['CVE-2021-24031'],
          '1.4.9-r0': ['CVE-2021-24032'],
        },
      },
      13,
    ],
  ])('maps %s', async (file, namespace, repository, fixes, count) => {
    const records = await parseAll(await fileBody(file));
    expect(records).toEqual(expectedRecords(fixes, namespace, repository));
    expect(records).toHaveLength(count);
  });

  it('marks busybox "0" entries not-affected with no range', async () => {
    const records = await parseAll(
      await fileBody('feeds/alpine/vulnlist-secdb-v3.11-main-image-subset.json'),
    );
    expect(
      records.find((r) => r.type === 'vulnerability' && r.vulnerability.id === 'CVE-2021-42373'),
    ).toEqual({
      type: 'vulnerability',
      vulnerability: {
        id: 'CVE-2021-42373',
        aliases: [],
        cvss: [],
        vendorSeverities: [],
        cwes: [],
        references: [],
      },
      affected: [
        {
          vulnId: 'CVE-2021-42373',
          namespace: 'alpine:3.11',
          packageName: 'busybox',
          fixState: 'not-affected',
          ranges: [],
          extra: { repository: 'main' },
        },
      ],
    });
  });

  it.each([
    ['feeds/alpine/claircore-secdb-v3.10-community.json', true],
    ['feeds/alpine/vulnlist-secdb-v3.10-main-image-subset.json', true],
    ['feeds/alpine/vulnlist-secdb-v3.11-main-image-subset.json', true],
    ['feeds/alpine/vunnel-secdb-v3.15-community.yaml', true],
    ['feeds/alpine/vunnel-secdb-v3.15-main.yaml', true],
    ['feeds/alpine/claircore-secdb-last-update', false],
    ['feeds/wolfi/vunnel-wolfi-security.json', false],
    ['feeds/wolfi/vunnel-chainguard-security.json', false],
    ['feeds/debian/vunnel-security-tracker-slice.json', false],
  ])('detect(%s) = %s', async (file, expected) => {
    const head = (await readFile(realdata(file))).subarray(0, 4096);
    expect(alpineFeed.detect({ name: file, head })).toBe(expected);
  });

  it('refuses a Wolfi secdb (no distroversion) with ENG_FEED_FORMAT', async () => {
    const error = await parseAll(await fileBody('feeds/wolfi/vunnel-wolfi-security.json')).catch(
      (e: unknown) => e,
    );
    expect(isEngineError(error) && error.code).toBe('ENG_FEED_FORMAT');
  });

  it('never throws anything but ENG_FEED_FORMAT on mutated secdb JSON and YAML', async () => {
    const seeds = await Promise.all(
      [
        'feeds/alpine/claircore-secdb-v3.10-community.json',
        'feeds/alpine/vunnel-secdb-v3.15-main.yaml',
        'feeds/alpine/vunnel-secdb-v3.15-community.yaml',
      ].map((f) => readFile(realdata(f))),
    );
    const failures = await fuzz(
      seeds,
      10_000,
      async (input) => {
        await parseAll(bufferBody(input));
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
  });
});

describe('alpine secdb: entries', () => {
  it('keeps the CVEs of multi-id entries, the leading id of CVE-less ones, and reports the rest', async () => {
    const doc = {
      distroversion: 'v3.19',
      reponame: 'main',
      packages: [
        {
          pkg: {
            name: 'xen',
            secfixes: {
              '4.17.2-r0': [
                'CVE-2023-1 XSA-431',
                'XSA-432',
                'CVE-2017-2616 (+ regression fix)',
                'CVE_2019_1234',
              ],
              '4.17.3-r0': ['CVE-2023-1', 'fixes stuff', 42],
              'bad version': ['CVE-2023-9'],
            },
          },
        },
        { pkg: { name: 'libx', secfixes: { '1.0-r1': ['CVE-2023-1', 'CVE-2023-1'], '1.0-r2': null } } },
        { pkg: { secfixes: {} } },
        { pkg: { name: 'nofix' } },
        { pkg: { name: 'weird', secfixes: ['CVE-2023-2'] } },
        'junk',
      ],
    };
    const fixed = (vulnId: string, packageName: string, v: string): AffectedPackage => ({
      vulnId,
      namespace: 'alpine:3.19',
      packageName,
      fixState: 'fixed',
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: v }] }],
      fixedVersion: v,
      extra: { repository: 'main' },
    });
    const vuln = (id: string) => ({
      id,
      aliases: [],
      cvss: [],
      vendorSeverities: [],
      cwes: [],
      references: [],
    });
    expect(await parseAll(bufferBody(JSON.stringify(doc)))).toEqual([
      { type: 'malformed', message: 'no id in fixes stuff', ref: 'xen/4.17.3-r0' },
      { type: 'malformed', message: 'no id in 42', ref: 'xen/4.17.3-r0' },
      { type: 'malformed', message: 'unusable secfixes entry', ref: 'xen/bad version' },
      { type: 'malformed', message: 'unusable secfixes entry', ref: 'libx/1.0-r2' },
      { type: 'malformed', message: 'package without a name', ref: 'packages[2]' },
      { type: 'malformed', message: 'secfixes is not a map', ref: 'weird' },
      { type: 'malformed', message: 'package without a name', ref: 'packages[5]' },
      {
        type: 'vulnerability',
        vulnerability: vuln('CVE-2023-1'),
        affected: [
          fixed('CVE-2023-1', 'xen', '4.17.2-r0'),
          fixed('CVE-2023-1', 'xen', '4.17.3-r0'),
          fixed('CVE-2023-1', 'libx', '1.0-r1'),
        ],
      },
      {
        type: 'vulnerability',
        vulnerability: vuln('XSA-432'),
        affected: [fixed('XSA-432', 'xen', '4.17.2-r0')],
      },
      {
        type: 'vulnerability',
        vulnerability: vuln('CVE-2017-2616'),
        affected: [fixed('CVE-2017-2616', 'xen', '4.17.2-r0')],
      },
      {
        type: 'vulnerability',
        vulnerability: vuln('CVE-2019-1234'),
        affected: [fixed('CVE-2019-1234', 'xen', '4.17.2-r0')],
      },
    ]);
  });

  it('reads YAML version keys as strings (1.10 stays 1.10)', async () => {
    const yaml =
      'distroversion: v3.20\nreponame: main\npackages:\n- pkg:\n    name: foo\n    secfixes:\n      1.10:\n      - CVE-2024-1\n      0:\n      - CVE-2024-2\n';
    const records = await parseAll(bufferBody(yaml, 'main.yaml'));
    expect(
      records.map(
        (r) =>
          r.type === 'vulnerability' && [
            r.vulnerability.id,
            r.affected[0]!.fixState,
            r.affected[0]!.fixedVersion,
          ],
      ),
    ).toEqual([
      ['CVE-2024-2', 'not-affected', undefined],
      ['CVE-2024-1', 'fixed', '1.10'],
    ]);
  });

  it.each([
    ['[]', /no Alpine distroversion/],
    ['{"distroversion": "3.x", "packages": []}', /no Alpine distroversion/],
    ['{"distroversion": "v3.19"}', /not a secdb document/],
    ['{"distroversion": "v3.19", "packages": [', /neither JSON nor YAML/],
    ['key: [unclosed', /neither JSON nor YAML/],
  ])('refuses %j with ENG_FEED_FORMAT', async (text, message) => {
    const error = await parseAll(bufferBody(text)).catch((e: unknown) => e);
    expect(isEngineError(error) && error.code).toBe('ENG_FEED_FORMAT');
    expect((error as Error).message).toMatch(message);
  });

  it('lists the releases of a secdb index page, oldest first, without edge', () => {
    const html = `<html><body><h1>Index of /</h1><pre><a href="../">../</a>
<a href="edge/">edge/</a>      15-Jun-2022 20:07       -
<a href="v3.10/">v3.10/</a>    15-Jun-2022 20:07       -
<a href="v3.2/">v3.2/</a>      15-Jun-2022 20:07       -
<a href='./v3.19/'>v3.19/</a>
<a href="last-update">last-update</a>   15-Jun-2022 20:07      11
</pre></body></html>`;
    expect(parseReleaseIndex(html)).toEqual(['3.2', '3.10', '3.19']);
  });
});

describe.skipIf(!hasRealdata)('alpine secdb: fetch against a loopback server', () => {
  let server: ReplayServer;
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'vigil-alpine-'));
  });
  afterEach(async () => {
    await server?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('lists releases, fetches main + community conditionally, and hands every file over on a change', async () => {
    const v310main = await readFile(realdata('feeds/alpine/vulnlist-secdb-v3.10-main-image-subset.json'));
    const v310community = await readFile(realdata('feeds/alpine/claircore-secdb-v3.10-community.json'));
    const v311main = await readFile(realdata('feeds/alpine/vulnlist-secdb-v3.11-main-image-subset.json'));
    server = await startReplayServer({
      '/': { body: '<a href="v3.10/">v3.10/</a>\n<a href="v3.11/">v3.11/</a>\n<a href="edge/">edge/</a>' },
      '/v3.10/main.json': { body: v310main, etag: '"a"' },
      '/v3.10/community.json': { body: v310community, etag: '"b"' },
      // v3.11 community is not published: skipped
      '/v3.11/main.json': [
        { body: v311main, etag: '"c"' },
        { body: v311main, etag: '"c"' },
        { status: 429, headers: { 'retry-after': '0' } },
        { body: v311main.toString().replace('1.2.11-r4', '1.2.11-r5'), etag: '"d"' },
      ],
    });
    const first = await alpineFeed.fetch({ baseUrl: server.url, workDir });
    if (first.status !== 'updated') throw new Error('expected an update');
    expect(first.mode).toBe('full');
    expect(first.bodies.map((b) => b.name)).toEqual([
      join(workDir, 'alpine', 'v3.10', 'main.json'),
      join(workDir, 'alpine', 'v3.10', 'community.json'),
      join(workDir, 'alpine', 'v3.11', 'main.json'),
    ]);
    const counts = await Promise.all(first.bodies.map(async (b) => (await parseAll(b)).length));
    expect(counts).toEqual([28, 9, 45]);

    expect(await alpineFeed.fetch({ baseUrl: server.url, workDir, checkpoint: first.checkpoint })).toEqual({
      status: 'unchanged',
    });
    const conditional = server.requests.slice(-4).map((r) => [r.path, r.headers['if-none-match']]);
    expect(conditional).toEqual([
      ['/v3.10/main.json', '"a"'],
      ['/v3.10/community.json', '"b"'],
      ['/v3.11/main.json', '"c"'],
      ['/v3.11/community.json', undefined],
    ]);

    const third = await alpineFeed.fetch({ baseUrl: server.url, workDir, checkpoint: first.checkpoint });
    if (third.status !== 'updated') throw new Error('expected an update');
    expect(third.bodies).toHaveLength(3);
    const zlib = (await parseAll(third.bodies[2]!)).find(
      (r) => r.type === 'vulnerability' && r.vulnerability.id === 'CVE-2022-37434',
    );
    expect(zlib?.type === 'vulnerability' && zlib.affected[0]!.fixedVersion).toBe('1.2.11-r5');
  });

  it('fetches a configured release list without the index page', async () => {
    const body = await readFile(realdata('feeds/alpine/vunnel-secdb-v3.15-main.yaml'));
    server = await startReplayServer({ '/v3.15/main.json': { body } });
    const feed = createAlpineFeed({ releases: ['3.15'] });
    const result = await feed.fetch({ baseUrl: `${server.url}/`, workDir });
    expect(result.status).toBe('updated');
    expect(server.requests.map((r) => r.path)).toEqual(['/v3.15/main.json', '/v3.15/community.json']);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import { startReplayServer, type ReplayServer } from '../alpine/testdata/replay-server.js';
import type { AffectedPackage } from '../../model/vulnerability.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { amazonFeed, createAmazonFeed, updateinfoHref } from './index.js';

const UPDATEINFO = join(dirname(fileURLToPath(import.meta.url)), 'testdata', 'updateinfo.xml');

/** A body delivered in `size`-byte chunks (tags split across chunks). */
const bufferBody = (buf: Buffer | string, name = 'updateinfo.xml', size = 1 << 20): FeedBody => ({
  name,
  open: async () => {
    const b = Buffer.from(buf);
    const chunks: Buffer[] = [];
    for (let i = 0; i < b.length; i += size) chunks.push(b.subarray(i, i + size));
    return Readable.from(chunks);
  },
});

async function parseAll(body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of amazonFeed.parse(body)) out.push(r);
  return out;
}

const row = (
  vulnId: string,
  namespace: string,
  packageName: string,
  fixed: string,
  advisory: string,
): AffectedPackage => ({
  vulnId,
  namespace,
  packageName,
  fixState: 'fixed',
  ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
  fixedVersion: fixed,
  extra: { advisory, binary: true },
});

describe.skipIf(!hasRealdata)('amazon: realdata', () => {
  it('maps the vuln-list JSON form of ALAS2-2021-1699 to a record of its CVE', async () => {
    const file = 'feeds/amazon/trivydb-ALAS2-2021-1699.json';
    expect(await parseAll(bufferBody(await readFile(realdata(file)), file))).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2021-22543',
          aliases: [],
          related: ['ALAS2-2021-1699'],
          published: '2021-08-13 17:31',
          modified: '2021-08-13 17:31',
          cvss: [],
          vendorSeverities: [{ source: 'amazon', rating: 'low', severity: 'LOW' }],
          cwes: [],
          references: ['http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2021-22543'],
        },
        affected: [
          row('CVE-2021-22543', 'amzn:2', 'kernel', '4.14.243-185.433.amzn2', 'ALAS2-2021-1699'),
          row('CVE-2021-22543', 'amzn:2', 'kernel-headers', '4.14.243-185.433.amzn2', 'ALAS2-2021-1699'),
        ],
      },
    ]);
  });

  it('reads the updateinfo location of a real repomd.xml', async () => {
    expect(updateinfoHref(await readFile(realdata('feeds/amazon/claircore-al-repomd.xml'), 'utf8'))).toBe(
      'repodata/updateinfo.xml.gz',
    );
  });

  it.each([
    ['trivydb-ALAS2-2021-1699.json', true],
    // pages, feeds and repository metadata are not advisories data
    ['claircore-al-repomd.xml', false],
    ['vunnel-ALAS-2018-939.html', false],
    ['vunnel-ALAS-2023-126.html', false],
    ['vunnel-al2-updates-rss.xml', false],
    ['vunnel-al2023-updates-rss.xml', false],
  ])('detect(feeds/amazon/%s) = %s', async (file, expected) => {
    const head = (await readFile(realdata(`feeds/amazon/${file}`))).subarray(0, 64 << 10);
    expect(amazonFeed.detect({ name: file, head })).toBe(expected);
  });

  it('never throws anything but ENG_FEED_FORMAT on mutated updateinfo and ALAS JSON', async () => {
    const seeds = [
      await readFile(UPDATEINFO),
      await readFile(realdata('feeds/amazon/trivydb-ALAS2-2021-1699.json')),
    ];
    const failures = await fuzz(
      seeds,
      10_000,
      async (input) => {
        await parseAll(bufferBody(input, 'x', 1 + (input.length % 97)));
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
  });
});

describe('amazon: updateinfo.xml', () => {
  const expected: FeedRecord[] = [
    {
      type: 'vulnerability',
      vulnerability: {
        id: 'CVE-2024-0001',
        aliases: [],
        related: ['ALAS2-2024-2500'],
        published: '2024-03-01 10:00',
        modified: '2024-03-05 11:00',
        cvss: [],
        vendorSeverities: [{ source: 'amazon', rating: 'important', severity: 'HIGH' }],
        cwes: [],
        references: [
          'https://explore.alas.aws.amazon.com/CVE-2024-0001.html',
          'https://explore.alas.aws.amazon.com/CVE-2024-0002.html',
        ],
      },
      // x86_64 and aarch64 curl collapse; libcurl carries epoch 1
      affected: [
        row('CVE-2024-0001', 'amzn:2', 'curl', '8.3.0-1.amzn2.0.1', 'ALAS2-2024-2500'),
        row('CVE-2024-0001', 'amzn:2', 'libcurl', '1:8.3.0-1.amzn2.0.1', 'ALAS2-2024-2500'),
      ],
    },
    {
      type: 'vulnerability',
      vulnerability: {
        id: 'CVE-2024-0002',
        aliases: [],
        related: ['ALAS2-2024-2500'],
        published: '2024-03-01 10:00',
        modified: '2024-03-05 11:00',
        cvss: [],
        vendorSeverities: [{ source: 'amazon', rating: 'important', severity: 'HIGH' }],
        cwes: [],
        references: [
          'https://explore.alas.aws.amazon.com/CVE-2024-0001.html',
          'https://explore.alas.aws.amazon.com/CVE-2024-0002.html',
        ],
      },
      affected: [
        row('CVE-2024-0002', 'amzn:2', 'curl', '8.3.0-1.amzn2.0.1', 'ALAS2-2024-2500'),
        row('CVE-2024-0002', 'amzn:2', 'libcurl', '1:8.3.0-1.amzn2.0.1', 'ALAS2-2024-2500'),
      ],
    },
    {
      type: 'malformed',
      message: 'package without name, version or release',
      ref: 'ALAS2KERNEL-5.10-2024-050/bpftool',
    },
    {
      // an AL2 extras advisory without CVEs: a record of its own id
      type: 'vulnerability',
      vulnerability: {
        id: 'ALAS2KERNEL-5.10-2024-050',
        aliases: [],
        published: '2024-04-01 09:00',
        cvss: [],
        vendorSeverities: [{ source: 'amazon', rating: 'medium', severity: 'MEDIUM' }],
        cwes: [],
        references: [],
      },
      affected: [
        row(
          'ALAS2KERNEL-5.10-2024-050',
          'amzn:2',
          'kernel',
          '5.10.210-200.amzn2',
          'ALAS2KERNEL-5.10-2024-050',
        ),
      ],
    },
    { type: 'malformed', message: '<update> without an id', ref: 'updateinfo.xml' },
    { type: 'malformed', message: 'not an ALAS id: FEDORA-2024-1', ref: 'updateinfo.xml' },
  ];

  it.each([1, 7, 100, 1 << 20])('streams every <update> (%i-byte chunks)', async (size) => {
    expect(await parseAll(bufferBody(await readFile(UPDATEINFO), 'updateinfo.xml', size))).toEqual(expected);
  });

  it('reads gzipped updateinfo and detects it', async () => {
    const gz = gzipSync(await readFile(UPDATEINFO));
    expect(await parseAll(bufferBody(gz, 'updateinfo.xml'))).toEqual(expected);
    expect(amazonFeed.detect({ name: 'x', head: await readFile(UPDATEINFO) })).toBe(true);
  });

  it.each([
    ['<updates><update><id>ALAS2-2024-1</id>', /not a complete updateinfo document/],
    ['<rss><channel><item>ALAS</item></channel></rss>', /not a complete updateinfo document/],
    ['<foo><update><id>ALAS2-2024-1</id></update></foo>', /not Amazon Linux updateinfo/],
    ['{"id": "ALAS2-2024-1"}', /not Amazon Linux updateinfo/],
    ['plain text', /not Amazon Linux updateinfo/],
    ['', /not a complete updateinfo document/],
  ])('refuses %j with ENG_FEED_FORMAT', async (text, message) => {
    const error = await parseAll(bufferBody(text)).catch((e: unknown) => e);
    expect(isEngineError(error) && error.code).toBe('ENG_FEED_FORMAT');
    expect((error as Error).message).toMatch(message);
  });
});

describe('amazon: fetch against a loopback server', () => {
  let server: ReplayServer;
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'vigil-amzn-'));
  });
  afterEach(async () => {
    await server?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('follows mirror list → repomd.xml → updateinfo, conditionally', async () => {
    const updateinfo = gzipSync(await readFile(UPDATEINFO));
    const repomd = (href: string) =>
      `<repomd><data type="primary_db"><location href="repodata/primary.sqlite.bz2"/></data><data type="updateinfo"><location href="${href}"/></data></repomd>`;
    server = await startReplayServer({});
    server.routes.set('/2/core/latest/x86_64/mirror.list', { body: `${server.url}/m2/\n` });
    server.routes.set('/al2023/core/mirrors/latest/x86_64/mirror.list', { body: `\n${server.url}/m2023\n` });
    server.routes.set('/m2/repodata/repomd.xml', { body: repomd('repodata/updateinfo.xml.gz') });
    server.routes.set('/m2023/repodata/repomd.xml', { body: repomd('repodata/0a1b-updateinfo.xml.gz') });
    server.routes.set('/m2/repodata/updateinfo.xml.gz', { body: updateinfo, etag: '"u2"' });
    server.routes.set('/m2023/repodata/0a1b-updateinfo.xml.gz', { body: gzipSync('<updates></updates>') });
    const first = await amazonFeed.fetch({ baseUrl: server.url, workDir });
    if (first.status !== 'updated') throw new Error('expected an update');
    expect(first.bodies.map((b) => b.name)).toEqual([
      join(workDir, 'amzn', '2', 'updateinfo.xml.gz'),
      join(workDir, 'amzn', '2023', 'updateinfo.xml.gz'),
    ]);
    expect((await parseAll(first.bodies[0]!)).length).toBe(6);
    expect(await parseAll(first.bodies[1]!)).toEqual([]);
    // 304 for AL2, the same bytes for AL2023: unchanged
    expect(await amazonFeed.fetch({ baseUrl: server.url, workDir, checkpoint: first.checkpoint })).toEqual({
      status: 'unchanged',
    });
    expect(
      server.requests.filter((r) => r.path === '/m2/repodata/updateinfo.xml.gz').at(-1)!.headers[
        'if-none-match'
      ],
    ).toBe('"u2"');
    const only2 = createAmazonFeed({ releases: ['2'] });
    const error = await createAmazonFeed({ releases: ['1'] })
      .fetch({ baseUrl: server.url, workDir })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENG_INVALID_ARGUMENT' });
    expect((await only2.fetch({ baseUrl: server.url, workDir })).status).toBe('updated');
  });
});

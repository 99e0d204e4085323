import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { epssFeed } from './index.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));

const fileBody = (path: string, name = path): FeedBody => ({
  name,
  open: async () => createReadStream(path),
});
const bufferBody = (buf: Buffer, name = 'mem'): FeedBody => ({
  name,
  open: async () => Readable.from([buf]),
});

async function collect(body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of epssFeed.parse(body)) out.push(r);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a rejection');
}

const epss =
  (date: string) =>
  (cveId: string, score: number, percentile: number): FeedRecord => ({
    type: 'epss',
    entry: { cveId, score, percentile, date },
  });

describe.skipIf(!hasRealdata)('epss parse on realdata', () => {
  it('claircore slice: 29 scores of 2024-10-25 (last line without a newline)', async () => {
    const e = epss('2024-10-25');
    // transcribed from the file with awk -F, (independent of this parser)
    expect(await collect(fileBody(realdata('feeds/epss/claircore-epss-data.csv')))).toEqual([
      e('CVE-1999-0005', 0.91963, 0.9903),
      e('CVE-1999-0006', 0.03341, 0.91563),
      e('CVE-1999-0007', 0.00073, 0.32734),
      e('CVE-1999-0008', 0.13967, 0.95792),
      e('CVE-1999-0009', 0.09014, 0.94772),
      e('CVE-1999-0010', 0.00292, 0.69634),
      e('CVE-2022-34665', 0.00042, 0.05099),
      e('CVE-2022-34666', 0.00042, 0.05099),
      e('CVE-2022-34667', 0.00073, 0.32799),
      e('CVE-2022-34668', 0.00311, 0.70519),
      e('CVE-2022-34669', 0.00044, 0.13516),
      e('CVE-2022-34670', 0.00044, 0.13516),
      e('CVE-2022-34671', 0.00142, 0.50809),
      e('CVE-2022-34672', 0.00044, 0.13516),
      e('CVE-2022-34673', 0.00044, 0.13516),
      e('CVE-2022-34674', 0.00047, 0.18133),
      e('CVE-2022-34675', 0.00044, 0.13516),
      e('CVE-2024-9972', 0.00091, 0.39923),
      e('CVE-2024-9973', 0.00063, 0.28042),
      e('CVE-2024-9974', 0.00063, 0.28042),
      e('CVE-2024-9975', 0.00063, 0.28515),
      e('CVE-2024-9980', 0.0005, 0.20281),
      e('CVE-2024-9981', 0.0005, 0.20281),
      e('CVE-2024-9982', 0.00091, 0.39923),
      e('CVE-2024-9983', 0.0009, 0.39372),
      e('CVE-2024-9984', 0.00091, 0.39923),
      e('CVE-2024-9985', 0.00091, 0.39923),
      e('CVE-2024-9986', 0.00165, 0.53867),
      e('CVE-2024-9987', 0.00043, 0.09778),
    ]);
  });

  it('vunnel example: 5 scores of 2025-02-20', async () => {
    const e = epss('2025-02-20');
    expect(await collect(fileBody(realdata('feeds/epss/vunnel-epss-example.csv')))).toEqual([
      e('CVE-1999-0001', 0.00383, 0.73075),
      e('CVE-1999-0002', 0.01328, 0.85996),
      e('CVE-1999-0003', 0.04409, 0.9244),
      e('CVE-1999-0004', 0.00917, 0.82963),
      e('CVE-1999-0005', 0.91963, 0.99214),
    ]);
  });

  it('an invalid header is ENG_FEED_FORMAT', async () => {
    expect(
      await errorOf(collect(fileBody(realdata('feeds/epss/vunnel-epss-invalid-header.csv'), 'bad.csv'))),
    ).toEqual({
      code: 'ENG_FEED_FORMAT',
      message: 'bad.csv: line 2: header "invalid,header,format" is not cve,epss,percentile',
    });
  });

  it('a missing score date is ENG_FEED_FORMAT, unless the file has FIRST dated name', async () => {
    const path = realdata('feeds/epss/vunnel-epss-missing-date.csv');
    expect(await errorOf(collect(fileBody(path, 'missing-date.csv')))).toEqual({
      code: 'ENG_FEED_FORMAT',
      message:
        'missing-date.csv: no score_date in the #model_version comment line, and the file name is not epss_scores-YYYY-MM-DD.csv',
    });
    const e = epss('2025-02-20');
    expect(await collect(fileBody(path, '/mirror/epss/epss_scores-2025-02-20.csv'))).toEqual([
      e('CVE-1999-0001', 0.00383, 0.73075),
      e('CVE-1999-0002', 0.01328, 0.85996),
      e('CVE-1999-0003', 0.04409, 0.9244),
      e('CVE-1999-0004', 0.00917, 0.82963),
      e('CVE-1999-0005', 0.91963, 0.99214),
    ]);
  });

  it('detects every EPSS file by content (negative cases too), and no other realdata feed file', () => {
    const feeds = realdata('feeds');
    const claimed: string[] = [];
    for (const dir of readdirSync(feeds)) {
      for (const f of readdirSync(join(feeds, dir))) {
        if (f === 'schemas') continue;
        const head = readFileSync(join(feeds, dir, f)).subarray(0, 4096);
        if (epssFeed.detect({ name: f, head })) claimed.push(`${dir}/${f}`);
      }
    }
    expect(claimed.sort()).toEqual([
      'epss/claircore-epss-data.csv',
      'epss/vunnel-epss-example.csv',
      'epss/vunnel-epss-invalid-header.csv',
      'epss/vunnel-epss-missing-date.csv',
    ]);
  });

  it('fuzz: mutated real files yield records or throw ENG_FEED_FORMAT only (12,000 inputs)', async () => {
    const seeds = readdirSync(realdata('feeds/epss')).map((f) => readFileSync(realdata(`feeds/epss/${f}`)));
    let scores = 0;
    const failures = await fuzz(
      [...seeds, gzipSync(seeds[0]!)],
      12_000,
      async (input) => {
        epssFeed.detect({ name: 'x', head: input.subarray(0, 4096) });
        for await (const r of epssFeed.parse(bufferBody(input))) {
          if (r.type === 'epss') {
            scores++;
            const { score, percentile, date } = r.entry;
            if (!(
              score >= 0 &&
              score <= 1 &&
              percentile >= 0 &&
              percentile <= 1 &&
              /^\d{4}-\d\d-\d\d$/.test(date)
            ))
              throw new Error(`bad entry ${JSON.stringify(r.entry)}`);
          } else if (r.type !== 'malformed') throw new Error(`unexpected record ${r.type}`);
        }
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
    expect(scores).toBeGreaterThan(1000);
  });
});

describe('epss parse', () => {
  const quirks = readFileSync(join(TESTDATA, 'quirks.csv'));
  // BOM, CRLF, a blank line, columns in another order, and bad lines among good ones
  const expected: FeedRecord[] = [
    epss('2099-01-02')('CVE-2099-0001', 0.25, 0.5),
    { type: 'malformed', message: '2 fields, the header has 3', ref: 'line 5' },
    { type: 'malformed', message: '"GHSA-aaaa-bbbb-cccc" is not a CVE id', ref: 'line 6' },
    {
      type: 'malformed',
      message: 'CVE-2099-0003: epss or percentile is not a number in [0, 1]',
      ref: 'line 7',
    },
    {
      type: 'malformed',
      message: 'CVE-2099-0004: epss or percentile is not a number in [0, 1]',
      ref: 'line 8',
    },
    epss('2099-01-02')('CVE-2099-0005', 0.00001, 1),
  ];

  it('reads columns by name and counts bad lines', async () => {
    expect(await collect(bufferBody(quirks))).toEqual(expected);
  });

  it('reads the gzip form, even fed one byte at a time', async () => {
    const gz = gzipSync(quirks);
    const bytewise: FeedBody = {
      name: 'gz',
      open: async () => Readable.from([...gz].map((b) => Buffer.from([b]))),
    };
    expect(await collect(bytewise)).toEqual(expected);
  });

  it('streams a full-size file (250,000 lines, gzip)', async () => {
    const rows = ['#model_version:v2025.03.14,score_date:2099-03-01T00:00:00+0000', 'cve,epss,percentile'];
    for (let i = 0; i < 250_000; i++)
      rows.push(`CVE-2099-${String(i).padStart(5, '0')},0.00042,${(i / 1_000_000).toFixed(6)}`);
    const gz = gzipSync(rows.join('\n') + '\n');
    let count = 0;
    let last: FeedRecord | undefined;
    for await (const r of epssFeed.parse(bufferBody(gz))) {
      count++;
      last = r;
    }
    expect([count, last]).toEqual([250_000, epss('2099-03-01')('CVE-2099-249999', 0.00042, 0.249999)]);
  });

  it.each([
    ['empty', Buffer.alloc(0), 'no cve,epss,percentile header'],
    [
      'only a comment',
      Buffer.from('#model_version:v1,score_date:2099-01-01\n'),
      'no cve,epss,percentile header',
    ],
    ['html', Buffer.from('<html><body>rate limited</body></html>\n'), 'is not cve,epss,percentile'],
    ['broken gzip', gzipSync(quirks).subarray(0, 20), 'gzip'],
    ['a 100 KB line', Buffer.from('x'.repeat(100_000)), 'a line longer than 65536 characters'],
  ])('rejects %s', async (name, buf, message) => {
    const e = await errorOf(collect(bufferBody(buf, name)));
    expect([e.code, e.message.includes(message)]).toEqual(['ENG_FEED_FORMAT', true]);
  });

  it('detects by content, not by name', () => {
    expect([
      epssFeed.detect({ name: 'data.bin', head: quirks.subarray(3) }),
      epssFeed.detect({ name: 'x', head: Buffer.from('cve,epss,percentile\r\nCVE-1999-0001,0.1,0.2\r\n') }),
      epssFeed.detect({ name: 'epss_scores-2024-01-01.csv', head: Buffer.from('{"cveID":"CVE-2024-0001"}') }),
      epssFeed.detect({ name: 'x', head: Buffer.from('cve,epss,percentile_extra\n') }),
    ]).toEqual([true, true, false, false]);
  });

  it('stops on an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const it = epssFeed.parse(bufferBody(quirks), { signal: controller.signal });
    expect((await errorOf(it[Symbol.asyncIterator]().next())).code).toBe('ENG_ABORTED');
  });
});

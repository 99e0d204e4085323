import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { FeedBody, FeedRecord } from '../types.js';
import { nvdFeed } from './index.js';

const fileBody = (path: string): FeedBody => ({ name: path, open: async () => createReadStream(path) });
const bufferBody = (buf: Buffer, name = 'buffer'): FeedBody => ({
  name,
  open: async () => Readable.from([buf]),
});

async function collect(body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of nvdFeed.parse(body)) out.push(r);
  return out;
}

describe('NVD parse on damaged input', () => {
  it('malformed elements are counted and parsing goes on', async () => {
    const records = await collect(fileBody(join(import.meta.dirname, 'testdata/malformed-page.json')));
    expect(records).toEqual([
      {
        type: 'vulnerability',
        affected: [],
        vulnerability: {
          id: 'CVE-2020-0001',
          aliases: [],
          description: 'one "quoted" ]} brackets',
          published: '2020-01-08T19:15:12.843Z',
          modified: '2021-07-21T11:39:23.747Z',
          cvss: [],
          vendorSeverities: [],
          cwes: ['CWE-79'],
          references: [],
        },
      },
      { type: 'malformed', message: 'vulnerabilities[1] is not a {"cve": {...}} object' },
      { type: 'malformed', message: 'vulnerabilities[2] is not a {"cve": {...}} object' },
      { type: 'malformed', message: 'vulnerabilities[3].cve has no valid CVE id' },
      { type: 'malformed', message: 'vulnerabilities[4].cve has no valid CVE id' },
      {
        type: 'malformed',
        message: 'vulnerabilities[5].cve.references is not an array',
        ref: 'CVE-2020-0006',
      },
      { type: 'malformed', message: expect.stringMatching(/^vulnerabilities\[6\] is not valid JSON: /) },
      { type: 'withdrawn', id: 'CVE-2020-0008' },
      {
        type: 'malformed',
        message: 'vulnerabilities[8].cve.metrics.cvssMetricV31[0] lacks vectorString or source',
        ref: 'CVE-2020-0009',
      },
      {
        type: 'vulnerability',
        affected: [],
        vulnerability: {
          id: 'CVE-2020-0010',
          aliases: [],
          cvss: [
            {
              version: '4.0',
              vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
              baseScore: 9.3,
              source: 'cna@example.com',
              type: 'Secondary',
            },
          ],
          vendorSeverities: [],
          cwes: [],
          references: [],
        },
      },
    ]);
  });

  it.each([
    ['empty', ''],
    ['not JSON', 'hello'],
    ['a top-level array', '[{"cve": {"id": "CVE-2020-0001"}}]'],
    ['another NVD API', '{"format": "NVD_CVEHistory", "cveChanges": []}'],
    ['vulnerabilities not an array', '{"format": "NVD_CVE", "vulnerabilities": {}}'],
    ['an OSV record', '{"id": "CVE-2020-0001", "modified": "2020-01-01T00:00:00Z", "affected": []}'],
    [
      'truncated page',
      '{"format": "NVD_CVE", "vulnerabilities": [{"cve": {"id": "CVE-2020-0001"}}, {"cve": ',
    ],
    ['garbage after the page', '{"format": "NVD_CVE", "vulnerabilities": []} x'],
    [
      'broken gzip',
      Buffer.concat([gzipSync('{"format": "NVD_CVE", "vulnerabilities": []}').subarray(0, 20)]),
    ],
  ])('%s: ENG_FEED_FORMAT', async (_name, input) => {
    await expect(collect(bufferBody(Buffer.from(input)))).rejects.toMatchObject({ code: 'ENG_FEED_FORMAT' });
  });

  it('records before damage at the end of a page are yielded before the error', async () => {
    const seen: FeedRecord[] = [];
    const body = bufferBody(
      Buffer.from('{"format": "NVD_CVE", "vulnerabilities": [{"cve": {"id": "CVE-2020-0001"}}, {"cv'),
    );
    await expect(
      (async () => {
        for await (const r of nvdFeed.parse(body)) seen.push(r);
      })(),
    ).rejects.toMatchObject({ code: 'ENG_FEED_FORMAT', message: 'buffer: truncated document at byte 80' });
    expect(seen).toEqual([
      {
        type: 'vulnerability',
        affected: [],
        vulnerability: {
          id: 'CVE-2020-0001',
          aliases: [],
          cvss: [],
          vendorSeverities: [],
          cwes: [],
          references: [],
        },
      },
    ]);
  });

  it('stops with ENG_ABORTED when the signal aborts', async () => {
    const ac = new AbortController();
    const body = bufferBody(
      Buffer.from(
        '{"vulnerabilities": [{"cve": {"id": "CVE-2020-0001"}}, {"cve": {"id": "CVE-2020-0002"}}]}',
      ),
    );
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const r of nvdFeed.parse(body, { signal: ac.signal })) {
          seen.push(r.type);
          ac.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: 'ENG_ABORTED' });
    expect(seen).toEqual(['vulnerability']);
  });
});

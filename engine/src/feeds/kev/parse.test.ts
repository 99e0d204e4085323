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
import { kevFeed } from './index.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));

const fileBody = (path: string): FeedBody => ({ name: path, open: async () => createReadStream(path) });
const bufferBody = (buf: Buffer, name = 'mem'): FeedBody => ({
  name,
  open: async () => Readable.from([buf]),
});

async function collect(body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of kevFeed.parse(body)) out.push(r);
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

describe.skipIf(!hasRealdata)('kev parse on realdata', () => {
  // expected values transcribed from the files (jq '.vulnerabilities[] | {cveID, …}')
  it('claircore catalog slice (2 entries)', async () => {
    expect(
      await collect(fileBody(realdata('feeds/kev/claircore-known_exploited_vulnerabilities.json'))),
    ).toEqual([
      {
        type: 'kev',
        entry: {
          cveId: 'CVE-2017-3066',
          dateAdded: '2025-02-24',
          dueDate: '2025-03-17',
          knownRansomwareCampaignUse: 'Unknown',
          vendorProject: 'Adobe',
          product: 'ColdFusion',
          name: 'Adobe ColdFusion Deserialization Vulnerability',
        },
      },
      {
        type: 'kev',
        entry: {
          cveId: 'CVE-2021-44228',
          dateAdded: '2021-12-10',
          dueDate: '2021-12-24',
          knownRansomwareCampaignUse: 'Known',
          vendorProject: 'Apache',
          product: 'Log4j2',
          name: 'Apache Log4j2 Remote Code Execution Vulnerability',
        },
      },
    ]);
  });

  it('vunnel catalog slice (header count 1273, 3 entries kept; "SimpleHelp " trimmed)', async () => {
    expect(await collect(fileBody(realdata('feeds/kev/vunnel-kev-catalog-slice.json')))).toEqual([
      {
        type: 'kev',
        entry: {
          cveId: 'CVE-2025-0108',
          dateAdded: '2025-02-18',
          dueDate: '2025-03-11',
          knownRansomwareCampaignUse: 'Unknown',
          vendorProject: 'Palo Alto Networks',
          product: 'PAN-OS',
          name: 'Palo Alto Networks PAN-OS Authentication Bypass Vulnerability',
        },
      },
      {
        type: 'kev',
        entry: {
          cveId: 'CVE-2024-53704',
          dateAdded: '2025-02-18',
          dueDate: '2025-03-11',
          knownRansomwareCampaignUse: 'Unknown',
          vendorProject: 'SonicWall',
          product: 'SonicOS',
          name: 'SonicWall SonicOS SSLVPN Improper Authentication Vulnerability',
        },
      },
      {
        type: 'kev',
        entry: {
          cveId: 'CVE-2024-57727',
          dateAdded: '2025-02-13',
          dueDate: '2025-03-06',
          knownRansomwareCampaignUse: 'Unknown',
          vendorProject: 'SimpleHelp',
          product: 'SimpleHelp',
          name: 'SimpleHelp Path Traversal Vulnerability',
        },
      },
    ]);
  });

  it('a single catalog entry without the envelope', async () => {
    expect(await collect(fileBody(realdata('feeds/kev/vunnel-kev-single-entry.json')))).toEqual([
      {
        type: 'kev',
        entry: {
          cveId: 'CVE-2025-0108',
          dateAdded: '2025-02-18',
          dueDate: '2025-03-11',
          knownRansomwareCampaignUse: 'Unknown',
          vendorProject: 'Palo Alto Networks',
          product: 'PAN-OS',
          name: 'Palo Alto Networks PAN-OS Authentication Bypass Vulnerability',
        },
      },
    ]);
  });

  it('detects every KEV file by content, and no other realdata feed file', () => {
    const feeds = realdata('feeds');
    const claimed: string[] = [];
    for (const dir of readdirSync(feeds)) {
      for (const f of readdirSync(join(feeds, dir))) {
        if (f === 'schemas') continue;
        const head = readFileSync(join(feeds, dir, f)).subarray(0, 4096);
        if (kevFeed.detect({ name: f, head })) claimed.push(`${dir}/${f}`);
      }
    }
    expect(claimed.sort()).toEqual([
      'kev/claircore-known_exploited_vulnerabilities.json',
      'kev/vunnel-kev-catalog-slice.json',
      'kev/vunnel-kev-single-entry.json',
    ]);
  });

  it('fuzz: mutated real catalogs yield records or throw coded errors only (12,000 inputs)', async () => {
    const seeds = readdirSync(realdata('feeds/kev')).map((f) => readFileSync(realdata(`feeds/kev/${f}`)));
    let kev = 0;
    const failures = await fuzz(
      [...seeds, gzipSync(seeds[0]!)],
      12_000,
      async (input) => {
        kevFeed.detect({ name: 'x', head: input.subarray(0, 4096) });
        for await (const r of kevFeed.parse(bufferBody(input))) {
          if (r.type === 'kev') kev++;
          else if (r.type !== 'malformed') throw new Error(`unexpected record ${r.type}`);
        }
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
    // some mutations keep the JSON valid: the entry mapping is fuzzed too, not only JSON.parse
    expect(kev).toBeGreaterThan(100);
  });
});

describe('kev parse', () => {
  it('counts malformed entries and goes on', async () => {
    expect(await collect(fileBody(join(TESTDATA, 'malformed-entries.json')))).toEqual([
      // bad dueDate dropped, empty ransomware field dropped, " Acme " trimmed
      {
        type: 'kev',
        entry: {
          cveId: 'CVE-2099-0001',
          dateAdded: '2099-01-01',
          vendorProject: 'Acme',
          product: 'Widget',
          name: 'Acme Widget Bug',
        },
      },
      {
        type: 'malformed',
        message: 'cveID "GHSA-xxxx-yyyy-zzzz" is not a CVE id',
        ref: 'vulnerabilities[1]',
      },
      { type: 'malformed', message: 'cveID null is not a CVE id', ref: 'vulnerabilities[2]' },
      { type: 'malformed', message: 'dateAdded "01/02/2099" is not a YYYY-MM-DD date', ref: 'CVE-2099-0002' },
      { type: 'malformed', message: 'catalog entry is not an object', ref: 'vulnerabilities[4]' },
      { type: 'kev', entry: { cveId: 'CVE-2099-0003', dateAdded: '2099-01-03' } },
    ]);
  });

  it('reads a gzip body like the plain one', async () => {
    const raw = readFileSync(join(TESTDATA, 'malformed-entries.json'));
    expect(await collect(bufferBody(gzipSync(raw)))).toEqual(await collect(bufferBody(raw)));
  });

  it.each([
    ['not-kev.json', readFileSync(join(TESTDATA, 'not-kev.json')), 'not a CISA KEV catalog'],
    ['html', Buffer.from('<html>maintenance</html>'), 'not JSON'],
    ['array', Buffer.from('[]'), 'not a CISA KEV catalog'],
    ['broken gzip', gzipSync(Buffer.from('{"vulnerabilities":[]}')).subarray(0, 15), 'gzip'],
  ])('rejects a body that is not KEV at all: %s', async (name, buf, message) => {
    const e = await errorOf(collect(bufferBody(buf, name)));
    expect(e.code).toBe('ENG_FEED_FORMAT');
    expect(e.message).toContain(message);
  });

  it('detects by content, not by name', () => {
    const catalog = readFileSync(join(TESTDATA, 'malformed-entries.json'));
    expect([
      kevFeed.detect({ name: 'anything.bin', head: catalog.subarray(0, 200) }),
      kevFeed.detect({
        name: 'known_exploited_vulnerabilities.json',
        head: readFileSync(join(TESTDATA, 'not-kev.json')),
      }),
      kevFeed.detect({
        name: 'known_exploited_vulnerabilities.json',
        head: Buffer.from('cve,epss,percentile\n'),
      }),
    ]).toEqual([true, false, false]);
  });

  it('stops on an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const it = kevFeed.parse(fileBody(join(TESTDATA, 'malformed-entries.json')), {
      signal: controller.signal,
    });
    const e = await errorOf(it[Symbol.asyncIterator]().next());
    expect(e.code).toBe('ENG_ABORTED');
  });
});

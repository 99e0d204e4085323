import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import type { FeedBody } from '../types.js';
import { nvdFeed } from './index.js';
import { readPageSummary } from './parse.js';

const body = (input: Buffer): FeedBody => ({ name: 'fuzz', open: async () => Readable.from([input]) });
const formatError = (e: unknown) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT';

describe.skipIf(!hasRealdata)('NVD parser fuzzing', () => {
  const file = (f: string) => readFileSync(realdata(`feeds/nvd/${f}`));
  const seeds = hasRealdata
    ? [
        file('vunnel-nvd-api2-single-entry.json'),
        file('trivydb-CVE-2023-0001.json'),
        file('grype-CVE-2026-25076.json'),
        file('claircore-nvdcve-2.0-feed.json'),
        gunzipSync(file('nvdgo-api2-cves-CVE-2023-0001.json.gz')),
        file('nvdgo-api2-cves-CVE-2023-0001.json.gz'),
      ]
    : [];

  it('parse, page summary and detect survive 12,000 mutations of real pages and records', async () => {
    let records = 0;
    const failures = await fuzz(
      seeds,
      12_000,
      async (input) => {
        nvdFeed.detect({ name: 'fuzz', head: input.subarray(0, 4096) });
        await readPageSummary(body(input)).catch((e: unknown) => {
          if (!formatError(e)) throw e;
        });
        for await (const r of nvdFeed.parse(body(input))) if (r.type) records++;
      },
      { allowed: formatError },
    );
    expect(failures).toEqual([]);
    expect(records).toBeGreaterThan(0);
  });
});

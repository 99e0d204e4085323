import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import { FEED_NAMES, FEEDS, selectFeeds } from './index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** feed name → its folder, where they differ */
const FOLDERS: Record<string, string> = {
  ghsa: 'osv',
  ubuntu: 'osv',
  almalinux: 'osv',
  rocky: 'osv',
  chainguard: 'wolfi',
  amzn: 'amazon',
};

describe('feed list', () => {
  it('has unique names, integer versions, an on-error policy and a testdata folder per feed', () => {
    expect(new Set(FEED_NAMES).size).toBe(FEED_NAMES.length);
    expect(FEEDS.map((f) => f.name)).toEqual([...FEED_NAMES]);
    expect(FEEDS.filter((f) => !Number.isInteger(f.version) || f.version < 0).map((f) => f.name)).toEqual([]);
    expect(FEEDS.filter((f) => f.onError !== 'fail' && f.onError !== 'skip').map((f) => f.name)).toEqual([]);
    expect(FEED_NAMES.filter((n) => !existsSync(join(HERE, FOLDERS[n] ?? n, 'testdata')))).toEqual([]);
  });

  it('selects feeds by name in list order, and names the valid ones for an unknown name', () => {
    expect(selectFeeds(['epss', 'nvd']).map((f) => f.name)).toEqual(['nvd', 'epss']);
    expect(selectFeeds(undefined)).toEqual(FEEDS);
    expect(() => selectFeeds(['nvd', 'oval'])).toThrow(
      expect.objectContaining({
        code: 'ENG_FEED_UNKNOWN',
        message: `unknown feed oval; feeds: ${FEED_NAMES.join(', ')}`,
      }),
    );
  });
});

describe.skipIf(!hasRealdata)('feed detection over the realdata feeds folder', () => {
  it('never lets two feeds claim the same file (so list order is a tie-break only in theory)', () => {
    const root = realdata('feeds');
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
    const claimedTwice = walk(root).flatMap((path) => {
      let head = readFileSync(path);
      if (head[0] === 0x1f && head[1] === 0x8b) head = gunzipSync(head);
      const name = relative(root, path);
      const claims = FEEDS.filter((f) => f.detect({ name, head: head.subarray(0, 64 << 10) })).map(
        (f) => f.name,
      );
      return claims.length > 1 ? [{ name, claims }] : [];
    });
    expect(claimedTwice).toEqual([]);
  });
});

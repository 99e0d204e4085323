import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hasRealdata } from '../../../../test/support/realdata.js';
import { openBody } from './body.js';
import { osvFeed } from './index.js';
import { bufferBody, collect, feed } from './testdata/support.js';

describe('openBody', () => {
  it('reads plain and gzipped JSON, drops a byte-order mark, refuses broken gzip and oversized bodies', async () => {
    const text = '{"id":"X-1","modified":"m"}';
    expect(await openBody(bufferBody(Buffer.from(`\uFEFF${text}`), 'a', 3))).toEqual({ kind: 'json', text });
    expect(await openBody(bufferBody(gzipSync(text), 'b', 2))).toEqual({ kind: 'json', text });
    await expect(openBody(bufferBody(gzipSync(text).subarray(0, 15)))).rejects.toMatchObject({
      code: 'ENG_FEED_FORMAT',
    });
    await expect(openBody(bufferBody(Buffer.from(text)), { maxJsonBytes: 10 })).rejects.toMatchObject({
      code: 'ENG_FEED_TOO_LARGE',
    });
    expect(await openBody(bufferBody(Buffer.alloc(0)))).toEqual({ kind: 'json', text: '' });
  });
});

describe.skipIf(!hasRealdata)('gzipped OSV files', () => {
  it('parse like the plain file', async () => {
    const rel = 'osv/vunnel-RLSA-2024_3671.json';
    const plain = await collect(osvFeed.parse(bufferBody(feed(rel).bytes)));
    expect(await collect(osvFeed.parse(bufferBody(gzipSync(feed(rel).bytes))))).toEqual(plain);
  });
});

/**
 * Opening a feed body: a zip (spooled to a temporary file unless it is one of our own downloads
 * already on disk, since zips are read from their central directory at the end) or a JSON document
 * (plain or gzip), read whole up to a cap. OSV and GitHub publish one advisory per JSON file and
 * at most 100 advisories per API page, so 64 MiB is far above any real body.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { EngineError, isEngineError } from '../../errors.js';
import type { FeedBody } from '../types.js';
import { looksLikeZip } from './zip.js';

export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** A body that is a file on disk (what our fetchers return): zips are read in place. */
export interface FileFeedBody extends FeedBody {
  path: string;
}

/** A FeedBody over a file. */
export function fileBody(path: string, name = path): FileFeedBody {
  return { name, path, open: async () => createReadStream(path) };
}

export type OpenedBody =
  { kind: 'zip'; path: string; close(): Promise<void> } | { kind: 'json'; text: string };

/**
 * Opens a body for reading. Throws ENG_FEED_FORMAT for broken gzip, ENG_FEED_TOO_LARGE past
 * `maxJsonBytes`; I/O errors of the body pass through.
 */
export async function openBody(
  body: FeedBody,
  options: { signal?: AbortSignal; maxJsonBytes?: number } = {},
): Promise<OpenedBody> {
  const path = (body as Partial<FileFeedBody>).path;
  if (typeof path === 'string' && (await startsLikeZip(path)))
    return { kind: 'zip', path, close: async () => {} };

  const stream = await body.open(options.signal);
  const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  while (headLen < 4) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    headLen += r.value.length;
  }
  const first = Buffer.concat(head);
  const source = () =>
    Readable.from(
      (async function* () {
        if (first.length) yield first;
        for (;;) {
          const r = await it.next();
          if (r.done) return;
          yield r.value;
        }
      })(),
    );

  if (looksLikeZip(first)) {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-osv-'));
    const file = join(dir, 'body.zip');
    try {
      await pipeline(source(), createWriteStream(file), { signal: options.signal });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return { kind: 'zip', path: file, close: () => rm(dir, { recursive: true, force: true }) };
  }

  const gzip = first[0] === 0x1f && first[1] === 0x8b;
  let input: Readable = source();
  if (gzip) {
    const gunzip = createGunzip();
    input.on('error', (e) => gunzip.destroy(e));
    input = input.pipe(gunzip);
  }
  const max = options.maxJsonBytes ?? MAX_JSON_BYTES;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > max)
        throw new EngineError('ENG_FEED_TOO_LARGE', `${body.name}: JSON body over ${max} bytes`);
      chunks.push(chunk);
    }
  } catch (e) {
    input.destroy();
    if (isEngineError(e)) throw e;
    if (
      gzip &&
      typeof (e as { code?: unknown }).code === 'string' &&
      /^Z_/.test((e as { code: string }).code)
    )
      throw new EngineError('ENG_FEED_FORMAT', `${body.name}: broken gzip: ${(e as Error).message}`, {
        cause: e,
      });
    throw e;
  }
  return {
    kind: 'json',
    text: Buffer.concat(chunks)
      .toString('utf8')
      .replace(/^\uFEFF/, ''),
  };
}

async function startsLikeZip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return looksLikeZip(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

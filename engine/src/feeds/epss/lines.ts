/**
 * Lines of a text body, plain or gzip, read as a stream: memory holds one chunk and one line, never
 * the file (the daily EPSS file is ≈300k lines). zlib failures become ENG_FEED_FORMAT.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { EngineError } from '../../errors.js';

/** A line longer than this is not CSV of this feed (guards against a binary or a bomb of one line). */
export const MAX_LINE_CHARS = 64 * 1024;

/** The body's bytes, gunzipped when they start with the gzip magic. */
async function* bytes(src: Readable, name: string): AsyncGenerator<Buffer> {
  const it = (src as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  // gather two bytes to see the magic (a first chunk may be one byte)
  while (head.length < 2) {
    const n = await it.next();
    if (n.done) {
      if (head.length) yield head;
      return;
    }
    head = Buffer.concat([head, n.value]);
  }
  const rest = async function* () {
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  };
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    yield* rest();
    return;
  }
  const gunzip = createGunzip();
  // pipeline owns the errors of both streams; a failure surfaces in the loop below
  const piped = pipeline(Readable.from(rest()), gunzip).catch(() => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw new EngineError('ENG_FEED_FORMAT', `${name}: gzip: ${(e as Error).message}`, { cause: e });
    throw e;
  } finally {
    gunzip.destroy();
    src.destroy();
    await piped;
  }
}

/**
 * Yields the lines of `src` (UTF-8, `\n` or `\r\n`, a leading BOM dropped), the last one even
 * without a newline.
 * @throws EngineError ENG_FEED_FORMAT for a broken gzip or a line past MAX_LINE_CHARS
 */
export async function* lines(src: Readable, name: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  let first = true;
  const take = function* (final: boolean): Generator<string> {
    let start = 0;
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n', start)) {
      const line = buffer.slice(start, nl);
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
      start = nl + 1;
    }
    buffer = buffer.slice(start);
    if (buffer.length > MAX_LINE_CHARS)
      throw new EngineError('ENG_FEED_FORMAT', `${name}: a line longer than ${MAX_LINE_CHARS} characters`);
    if (final && buffer !== '') {
      yield buffer.endsWith('\r') ? buffer.slice(0, -1) : buffer;
      buffer = '';
    }
  };
  for await (const chunk of bytes(src, name)) {
    buffer += decoder.write(chunk);
    if (first && buffer !== '') {
      if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
      first = false;
    }
    yield* take(false);
  }
  buffer += decoder.end();
  yield* take(true);
}

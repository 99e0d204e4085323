/**
 * Reads a Red Hat feed body, whatever it holds: the full archive (a zstd- or gzip-compressed tar
 * of CSAF JSON files, streamed entry by entry), one CSAF VEX / security advisory document, one
 * Security Data API CVE document, or a withdrawal list (a `deletions` index, see changes.ts).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { DecompressStream } from 'zstd-napi';
import { EngineError, isEngineError, throwIfAborted } from '../../errors.js';
import { peekBytes } from '../json-stream.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { idFromPath, parseIndexCsv } from './changes.js';
import { csafRecords } from './csaf.js';
import { hydraRecords, isHydraDocument } from './hydra.js';

/** Largest single JSON document read (the biggest VEX files are tens of MB). */
export const MAX_DOCUMENT_BYTES = 512 * 1024 ** 2;

const isZstd = (b: Buffer) => b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528;
const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
const isTar = (b: Buffer) => b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';

/** Maps one parsed JSON document (CSAF or Security Data API). @throws ENG_FEED_FORMAT */
export function documentRecords(doc: unknown, name: string): FeedRecord[] {
  if (isHydraDocument(doc)) return hydraRecords(doc, name);
  return csafRecords(doc, name);
}

/** Streams the records of one body. @throws ENG_FEED_FORMAT when it is none of the forms above. */
export async function* redhatRecords(body: FeedBody, signal?: AbortSignal): AsyncGenerator<FeedRecord> {
  let stream: Readable = await body.open(signal);
  try {
    let { head, stream: s } = await peekBytes(stream, 4);
    stream = s;
    if (isZstd(head) || isGzip(head)) {
      const source = stream;
      const inflate = isZstd(head) ? new DecompressStream() : createGunzip();
      source.on('error', (e) => inflate.destroy(e));
      stream = source.pipe(inflate);
      ({ head, stream: s } = await peekBytes(stream, 512));
      stream = s;
    } else {
      ({ head, stream: s } = await peekBytes(stream, 512));
      stream = s;
    }
    if (isTar(head)) {
      yield* archiveRecords(stream, body.name, signal);
      return;
    }
    const text = (await readAll(stream, body.name, signal)).toString('utf8').replace(/^\uFEFF/, '');
    if (/^\s*\{/.test(text)) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        throw new EngineError('ENG_FEED_FORMAT', `${body.name}: invalid JSON: ${(e as Error).message}`);
      }
      yield* documentRecords(doc, body.name);
      return;
    }
    if (/deletions/i.test(body.name) && /^\s*"?\d{4}\//.test(text)) {
      yield* withdrawals(text, body.name);
      return;
    }
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: not a Red Hat CSAF archive or document`);
  } catch (e) {
    if (isEngineError(e)) throw e;
    if (signal?.aborted) throw new EngineError('ENG_ABORTED', `${body.name}: parse aborted`, { cause: e });
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: ${(e as Error).message}`, { cause: e });
  } finally {
    stream.destroy();
  }
}

/** Every `.json` entry of a tar, one document at a time; a broken entry is one malformed record. */
async function* archiveRecords(
  stream: Readable,
  name: string,
  signal?: AbortSignal,
): AsyncGenerator<FeedRecord> {
  const extract = tar.extract();
  stream.on('error', (e) => extract.destroy(e));
  stream.pipe(extract);
  for await (const entry of extract) {
    throwIfAborted(signal);
    const path = entry.header.name;
    if (entry.header.type !== 'file' || !path.endsWith('.json')) {
      entry.resume();
      continue;
    }
    const ref = `${name}!${path}`;
    if (entry.header.size > MAX_DOCUMENT_BYTES) {
      entry.resume();
      yield { type: 'malformed', message: `document larger than ${MAX_DOCUMENT_BYTES} bytes`, ref };
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    try {
      yield* documentRecords(JSON.parse(Buffer.concat(chunks).toString('utf8')), ref);
    } catch (e) {
      yield { type: 'malformed', message: (e as Error).message.slice(0, 200), ref };
    }
  }
}

function* withdrawals(text: string, name: string): Generator<FeedRecord> {
  const { rows, bad } = parseIndexCsv(text);
  for (const line of bad)
    yield { type: 'malformed', message: 'unreadable index row', ref: `${name}:${line}` };
  for (const row of rows) {
    const id = idFromPath(row.path);
    if (id) yield { type: 'withdrawn', id };
    else yield { type: 'malformed', message: `no document id in ${row.path}`, ref: name };
  }
}

async function readAll(stream: Readable, name: string, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    throwIfAborted(signal);
    size += (chunk as Buffer).length;
    if (size > MAX_DOCUMENT_BYTES)
      throw new EngineError('ENG_FEED_FORMAT', `${name}: larger than ${MAX_DOCUMENT_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

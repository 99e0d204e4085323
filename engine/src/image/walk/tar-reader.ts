/**
 * A streaming tar reader made for layer walks: one pass over the decompressed bytes, a header
 * decoded per entry, and an entry's body either skipped (no allocation), copied into one buffer,
 * or written to a temp file. It replaces a general-purpose tar stream (one Readable per entry),
 * whose per-entry cost dominated walks of layers with tens of thousands of files.
 *
 * Formats: POSIX ustar with pax extended headers ('x'; 'g' is read and ignored), GNU long names
 * ('L', 'K') and base-256 sizes (archive/tar-header.ts). End of archive: a zero block; what follows
 * is read and discarded so a verifying source stream still reaches its end.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  BLOCK,
  isZeroBlock,
  paddedSize,
  parseHeader,
  parsePax,
  TarHeaderError,
} from '../archive/tar-header.js';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'directory' | 'other';

export interface TarEntry {
  /** name as stored (pax `path` and GNU long names applied), not normalised */
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  linkname: string;
}

/** What to do with an entry's body. */
export type BodyAction = 'skip' | 'memory' | 'spool';

export interface TarSink {
  /** Called for every entry in order; may be async (then the read waits). */
  entry(entry: TarEntry): BodyAction | Promise<BodyAction>;
  /** Called with the complete body of an entry asked for `memory` (a Buffer) or `spool` (a temp file path). */
  body(entry: TarEntry, body: { buffer: Buffer } | { file: string }): Promise<void>;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '5': 'directory',
};

type State =
  | { kind: 'header' }
  | { kind: 'meta'; type: 'x' | 'g' | 'L' | 'K'; remaining: number; pad: number; chunks: Buffer[] }
  | {
      kind: 'body';
      entry: TarEntry;
      action: BodyAction;
      remaining: number;
      pad: number;
      buf?: Buffer;
      off: number;
      fh?: FileHandle;
      file?: string;
    }
  | { kind: 'pad'; remaining: number }
  | { kind: 'end' };

const MAX_META = 1024 * 1024; // pax / long-name bodies larger than this are not names

/**
 * Reads a tar stream. Throws TarHeaderError for malformed headers and for a stream that ends
 * inside an entry; the caller maps it to a coded layer error.
 */
export async function readTar(
  stream: AsyncIterable<Buffer>,
  sink: TarSink,
  options: { tmpDir: string },
): Promise<void> {
  let state: State = { kind: 'header' };
  let pending: Buffer | undefined;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let sawBlock = false;

  const finishBody = async (s: Extract<State, { kind: 'body' }>) => {
    state = s.pad > 0 ? { kind: 'pad', remaining: s.pad } : { kind: 'header' };
    if (s.action === 'memory') await sink.body(s.entry, { buffer: s.buf! });
    else if (s.action === 'spool') {
      await s.fh!.close();
      await sink.body(s.entry, { file: s.file! });
    }
  };

  try {
    for await (const raw of stream) {
      const buf = pending ? Buffer.concat([pending, raw]) : raw;
      pending = undefined;
      let pos = 0;
      while (pos < buf.length) {
        const s: State = state;
        if (s.kind === 'end') {
          pos = buf.length;
          break;
        }
        if (s.kind === 'pad') {
          const n = Math.min(s.remaining, buf.length - pos);
          pos += n;
          s.remaining -= n;
          if (s.remaining === 0) state = { kind: 'header' };
          continue;
        }
        if (s.kind === 'meta') {
          const n = Math.min(s.remaining, buf.length - pos);
          s.chunks.push(buf.subarray(pos, pos + n));
          pos += n;
          s.remaining -= n;
          if (s.remaining > 0) continue;
          const { type, pad }: { type: 'x' | 'g' | 'L' | 'K'; pad: number } = s;
          const body = Buffer.concat(s.chunks);
          if (type === 'x') pax = parsePax(body);
          else if (type === 'L') longName = cstr(body);
          else if (type === 'K') longLink = cstr(body);
          state = pad > 0 ? { kind: 'pad', remaining: pad } : { kind: 'header' };
          continue;
        }
        if (s.kind === 'body') {
          const n = Math.min(s.remaining, buf.length - pos);
          if (s.action === 'memory') buf.copy(s.buf!, s.off, pos, pos + n);
          else if (s.action === 'spool') await s.fh!.write(buf.subarray(pos, pos + n));
          s.off += n;
          pos += n;
          s.remaining -= n;
          if (s.remaining === 0) await finishBody(s);
          continue;
        }
        // header
        if (buf.length - pos < BLOCK) {
          pending = Buffer.from(buf.subarray(pos));
          pos = buf.length;
          break;
        }
        const block = buf.subarray(pos, pos + BLOCK);
        pos += BLOCK;
        sawBlock = true;
        if (isZeroBlock(block)) {
          state = { kind: 'end' };
          continue;
        }
        const h = parseHeader(block);
        const padded = paddedSize(h.size);
        if (h.typeflag === 'x' || h.typeflag === 'g' || h.typeflag === 'L' || h.typeflag === 'K') {
          if (h.size > MAX_META) throw new TarHeaderError(`${h.typeflag} header of ${h.size} bytes`);
          state = { kind: 'meta', type: h.typeflag, remaining: h.size, pad: padded - h.size, chunks: [] };
          if (h.size === 0) state = { kind: 'header' };
          continue;
        }
        const size = pax.size !== undefined && /^\d+$/.test(pax.size) ? Number(pax.size) : h.size;
        const entry: TarEntry = {
          name: pax.path ?? longName ?? h.name,
          type: TYPES[h.typeflag] ?? 'other',
          size: TYPES[h.typeflag] === 'file' ? size : 0,
          mode: h.mode,
          linkname: pax.linkpath ?? longLink ?? h.linkname,
        };
        pax = {};
        longName = undefined;
        longLink = undefined;
        // links, directories and devices carry no body even when a size is stored
        const bodyBytes = entry.type === 'file' || entry.type === 'other' ? size : 0;
        const bodyPad = paddedSize(bodyBytes) - bodyBytes;
        const action = entry.type === 'file' ? await sink.entry(entry) : (await sink.entry(entry), 'skip');
        if (bodyBytes === 0) {
          if (action !== 'skip')
            await sink.body(
              entry,
              action === 'memory' ? { buffer: Buffer.alloc(0) } : { file: await emptyFile(options.tmpDir) },
            );
          continue;
        }
        if (action === 'skip') {
          state = { kind: 'pad', remaining: bodyBytes + bodyPad };
          continue;
        }
        if (action === 'memory') {
          state = {
            kind: 'body',
            entry,
            action,
            remaining: bodyBytes,
            pad: bodyPad,
            buf: Buffer.allocUnsafe(bodyBytes),
            off: 0,
          };
        } else {
          const file = join(options.tmpDir, `vigil-spool-${randomUUID()}`);
          state = {
            kind: 'body',
            entry,
            action,
            remaining: bodyBytes,
            pad: bodyPad,
            off: 0,
            fh: await open(file, 'w'),
            file,
          };
        }
      }
    }
    const end: State = state;
    if (end.kind === 'body' || end.kind === 'meta' || (end.kind === 'pad' && sawBlock) || pending) {
      throw new TarHeaderError('unexpected end of archive inside an entry');
    }
  } finally {
    const s: State = state;
    if (s.kind === 'body' && s.fh) await s.fh.close().catch(() => undefined);
  }
}

function cstr(body: Buffer): string {
  const nul = body.indexOf(0);
  return body.subarray(0, nul < 0 ? body.length : nul).toString('utf8');
}

async function emptyFile(tmpDir: string): Promise<string> {
  const file = join(tmpDir, `vigil-spool-${randomUUID()}`);
  await (await open(file, 'w')).close();
  return file;
}

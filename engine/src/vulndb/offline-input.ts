/**
 * Offline input for `db build --from DIR`: walks the directory, recognises each file by CONTENT
 * (each feed's `detect` on the first bytes, gunzipped for .gz), opens zip archives through their
 * central directory (OSV exports are zips of JSON files; each entry is detected on its own), and
 * groups the bodies per feed. Files no feed recognises, and
 * files that cannot be read, are reported as {path, message}, never silently dropped.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { readZipDirectory, readZipEntry, type ByteSource } from '../analyzers/lang/java/zip.js';
import { throwIfAborted } from '../errors.js';
import type { Feed, FeedBody } from '../feeds/types.js';
import type { Unknown } from '../model/unknown.js';

/** Bytes of (decompressed) content handed to `detect`. */
export const HEAD_BYTES = 64 << 10;
/** Largest zip entry inflated (OSV entries are a few KiB; bigger ones are reported). */
export const MAX_ZIP_ENTRY = 256 << 20;
/** Largest zip central directory read (the whole-OSV export lists ~700k entries in ~60 MB). */
const MAX_ZIP_DIRECTORY = 512 << 20;

export interface OfflineInput {
  /** bodies per feed, in path order (feeds without files are absent) */
  bodies: Map<Feed, FeedBody[]>;
  /** files and zip entries no feed recognised or that could not be read */
  unrecognized: Unknown[];
  /** files and zip entries looked at */
  files: number;
  /** closes the zip archives the bodies read from */
  close(): Promise<void>;
}

const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
const isZip = (b: Buffer) => b.length >= 4 && b.readUInt32LE(0) === 0x04034b50;

async function* walk(dir: string, signal?: AbortSignal): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    throwIfAborted(signal);
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walk(path, signal);
    // symlinked files are read; symlinked directories are not followed (no loops)
    else if (e.isFile() || (e.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile()))
      yield path;
  }
}

/** Reads up to `max` bytes of a stream and destroys it. */
async function readHead(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, max);
}

function fileBody(name: string, path: string, gzip: boolean): FeedBody {
  return {
    name,
    async open() {
      const raw = createReadStream(path);
      if (!gzip) return raw;
      const gunzip = createGunzip();
      raw.on('error', (e) => gunzip.destroy(e));
      return raw.pipe(gunzip);
    },
  };
}

/** Read-ahead window of a zip file: entries are visited in file order, twice (detect, parse). */
const WINDOW = 1 << 20;

/**
 * Random access to a file through one read-ahead window: small reads inside the window cost no
 * system call (200k OSV entries are 400k tiny reads otherwise); larger reads go to the file.
 */
async function fileSource(handle: FileHandle): Promise<ByteSource> {
  const { size } = await handle.stat();
  let start = 0;
  let window = Buffer.alloc(0);
  const read = async (offset: number, length: number) => {
    const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
    const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  };
  return {
    size,
    async readAt(offset, length) {
      if (offset >= start && offset + length <= start + window.length)
        return window.subarray(offset - start, offset - start + length);
      if (length > WINDOW / 4) return read(offset, length);
      const next = await read(offset, WINDOW);
      start = offset;
      window = next;
      return window.subarray(0, Math.min(length, window.length));
    },
  };
}

/**
 * Walks `root` and assigns each file (or zip entry) to the first feed whose `detect` accepts it.
 * Feed order matters: list specific feeds before general ones (GHSA before generic OSV).
 */
export async function readOfflineInput(
  root: string,
  feeds: readonly Feed[],
  signal?: AbortSignal,
): Promise<OfflineInput> {
  const bodies = new Map<Feed, FeedBody[]>();
  const unrecognized: Unknown[] = [];
  const handles: FileHandle[] = [];
  let files = 0;
  const detect = (name: string, head: Buffer) =>
    feeds.find((f) => {
      try {
        return f.detect({ name, head });
      } catch {
        return false;
      }
    });
  const assign = (feed: Feed | undefined, body: FeedBody) => {
    if (!feed) unrecognized.push({ path: body.name, message: 'no feed recognises this content' });
    else {
      const list = bodies.get(feed);
      if (list) list.push(body);
      else bodies.set(feed, [body]);
    }
  };

  for await (const path of walk(root, signal)) {
    files++;
    const name = relative(root, path).split(sep).join('/');
    try {
      const raw = await readHead(createReadStream(path), HEAD_BYTES);
      if (isGzip(raw)) {
        const head = await readHead(createReadStream(path).pipe(createGunzip()), HEAD_BYTES);
        assign(detect(name, head), fileBody(name, path, true));
      } else if (isZip(raw)) {
        // each entry on its own, never the archive as a whole: osv.dev's all.zip mixes ecosystems
        // (language, Ubuntu, AlmaLinux…: several feeds) and may hold files of no feed at all
        const handle = await open(path, 'r');
        handles.push(handle);
        const src = await fileSource(handle);
        const { entries } = await readZipDirectory(src, MAX_ZIP_DIRECTORY);
        for (const entry of entries) {
          if (entry.name.endsWith('/')) continue;
          throwIfAborted(signal);
          files++;
          const entryName = `${name}!/${entry.name}`;
          try {
            const data = await readZipEntry(src, entry, MAX_ZIP_ENTRY);
            assign(detect(entryName, data.subarray(0, HEAD_BYTES)), {
              name: entryName,
              open: async () => Readable.from([await readZipEntry(src, entry, MAX_ZIP_ENTRY)]),
            });
          } catch (e) {
            unrecognized.push({ path: entryName, message: `unreadable zip entry: ${(e as Error).message}` });
          }
        }
      } else {
        assign(detect(name, raw), fileBody(name, path, false));
      }
    } catch (e) {
      unrecognized.push({ path: name, message: `unreadable: ${(e as Error).message}` });
    }
  }
  return {
    bodies,
    unrecognized,
    files,
    async close() {
      await Promise.all(handles.map((h) => h.close()));
    },
  };
}

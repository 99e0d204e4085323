/**
 * Index of a plain (uncompressed) tar file built by reading only the 512-byte headers and
 * seeking past the bodies, so a multi-gigabyte `docker save` archive costs a few reads.
 * Entries are keyed by normalised name (see archive-path.ts); unsafe names are left out.
 */
import { open } from 'node:fs/promises';
import { EngineError, throwIfAborted } from '../../errors.js';
import { normalizeArchivePath, resolveLinkTarget } from './archive-path.js';
import { BLOCK, isZeroBlock, paddedSize, parseHeader, parsePax, TarHeaderError } from './tar-header.js';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  /** Byte offset of the entry body in the tar file. */
  offset: number;
  size: number;
  linkname: string;
}

export interface TarIndex {
  readonly path: string;
  readonly entries: ReadonlyMap<string, TarEntry>;
  /** The regular file at `name`, following in-archive symlinks and hard links; undefined when absent. */
  resolve(name: string): TarEntry | undefined;
}

/** Cap on extended-header bodies (pax, GNU long names): real ones are a few hundred bytes. */
const MAX_META_BODY = 1 << 20;
/** Cap on indexed entries: image archives hold tens of entries, layouts a few hundred blobs. */
const MAX_ENTRIES = 1_000_000;
const MAX_LINK_HOPS = 8;

function entryType(typeflag: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '7':
      return 'file';
    case '5':
      return 'dir';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

function corrupt(path: string, message: string): EngineError {
  return new EngineError('ENG_IMAGE_ARCHIVE_CORRUPT', `${path}: ${message}`);
}

/**
 * Reads the headers of the tar file at `path`.
 * Errors: ENG_IMAGE_FORMAT_UNKNOWN when the first block is not a tar header (not a tar file),
 * ENG_IMAGE_ARCHIVE_CORRUPT for a truncated archive or a later bad header, ENG_ABORTED.
 */
export async function indexTar(path: string, signal?: AbortSignal): Promise<TarIndex> {
  const fh = await open(path, 'r');
  try {
    const fileSize = (await fh.stat()).size;
    const entries = new Map<string, TarEntry>();
    const block = Buffer.alloc(BLOCK);
    let pos = 0;
    let count = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};
    let globalPax: Record<string, string> = {};

    const readBody = async (at: number, size: number): Promise<Buffer> => {
      if (size > MAX_META_BODY)
        throw corrupt(path, `extended header at offset ${at - BLOCK} is too large (${size} bytes)`);
      const body = Buffer.alloc(size);
      const { bytesRead } = await fh.read(body, 0, size, at);
      if (bytesRead < size) throw corrupt(path, `truncated extended header at offset ${at - BLOCK}`);
      return body;
    };

    for (;;) {
      throwIfAborted(signal);
      if (pos >= fileSize) {
        if (pos === 0)
          throw new EngineError('ENG_IMAGE_FORMAT_UNKNOWN', `${path}: empty file, not a tar archive`);
        break; // no end-of-archive blocks: accepted, as GNU tar does
      }
      const { bytesRead } = await fh.read(block, 0, BLOCK, pos);
      if (bytesRead < BLOCK) {
        if (pos === 0)
          throw new EngineError(
            'ENG_IMAGE_FORMAT_UNKNOWN',
            `${path}: not a tar archive (shorter than one block)`,
          );
        throw corrupt(path, `truncated tar header at offset ${pos}`);
      }
      if (isZeroBlock(block)) break;
      let header;
      try {
        header = parseHeader(block);
      } catch (error) {
        if (pos === 0)
          throw new EngineError('ENG_IMAGE_FORMAT_UNKNOWN', `${path}: not a tar archive`, { cause: error });
        const message = error instanceof TarHeaderError ? error.message : String(error);
        throw corrupt(path, `bad tar header at offset ${pos}: ${message}`);
      }
      const bodyAt = pos + BLOCK;
      let size = header.size;
      const meta =
        header.typeflag === 'x' ||
        header.typeflag === 'g' ||
        header.typeflag === 'L' ||
        header.typeflag === 'K';
      if (!meta) {
        const paxSize = pax.size ?? globalPax.size;
        if (paxSize !== undefined && /^\d+$/.test(paxSize)) size = Number(paxSize);
      }
      if (!Number.isSafeInteger(size) || bodyAt + paddedSize(size) > fileSize) {
        throw corrupt(
          path,
          `truncated: entry at offset ${pos} needs ${paddedSize(size)} bytes, ${Math.max(0, fileSize - bodyAt)} remain`,
        );
      }
      switch (header.typeflag) {
        case 'x':
          pax = parsePax(await readBody(bodyAt, size));
          break;
        case 'g':
          globalPax = { ...globalPax, ...parsePax(await readBody(bodyAt, size)) };
          break;
        case 'L':
          longName = (await readBody(bodyAt, size)).toString('utf8').replace(/\0.*$/s, '');
          break;
        case 'K':
          longLink = (await readBody(bodyAt, size)).toString('utf8').replace(/\0.*$/s, '');
          break;
        default: {
          const rawName = pax.path ?? longName ?? globalPax.path ?? header.name;
          const linkname = pax.linkpath ?? longLink ?? globalPax.linkpath ?? header.linkname;
          pax = {};
          longName = undefined;
          longLink = undefined;
          const name = normalizeArchivePath(rawName);
          if (name !== undefined) {
            if (++count > MAX_ENTRIES) throw corrupt(path, `more than ${MAX_ENTRIES} entries`);
            entries.set(name, { name, type: entryType(header.typeflag), offset: bodyAt, size, linkname });
          }
        }
      }
      pos = bodyAt + paddedSize(size);
    }
    return makeIndex(path, entries);
  } finally {
    await fh.close();
  }
}

function makeIndex(path: string, entries: Map<string, TarEntry>): TarIndex {
  return {
    path,
    entries,
    resolve(name) {
      let key = normalizeArchivePath(name);
      for (let hop = 0; key !== undefined && hop <= MAX_LINK_HOPS; hop++) {
        const entry: TarEntry | undefined = entries.get(key);
        if (!entry) return undefined;
        if (entry.type === 'file') return entry;
        if (entry.type === 'symlink') key = resolveLinkTarget(key, entry.linkname);
        else if (entry.type === 'hardlink') key = normalizeArchivePath(entry.linkname);
        else return undefined;
      }
      return undefined;
    },
  };
}

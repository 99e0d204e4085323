/**
 * A minimal, deterministic ustar writer for the demo images: regular files and directories only, owner 0:0,
 * one fixed mtime, entries in the order given. Same input, same bytes, so the demo images get the same
 * digests on every start and a restart finds the images it recorded before.
 */

export interface TarEntry {
  /** relative path, `/`-separated, no leading `/`; directories end with `/` */
  path: string;
  /** file content (absent for directories) */
  content?: string | Uint8Array;
  /** default 0o644 for files, 0o755 for directories */
  mode?: number;
}

const BLOCK = 512;
/** 2024-01-01T00:00:00Z */
const MTIME = 1_704_067_200;

/** The tar archive of `entries` (with the two zero blocks that end an archive). */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const dir = entry.path.endsWith('/');
    const body = dir ? Buffer.alloc(0) : Buffer.from(entry.content ?? '');
    parts.push(header(entry.path, body.length, entry.mode ?? (dir ? 0o755 : 0o644), dir));
    parts.push(body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function header(path: string, size: number, mode: number, dir: boolean): Buffer {
  const { name, prefix } = splitPath(path);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, MTIME);
  h.write(dir ? '5' : '0', 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'binary');
  h.write('root', 265, 32, 'utf8');
  h.write('root', 297, 32, 'utf8');
  h.write(prefix, 345, 155, 'utf8');
  // the checksum is computed with its own field as spaces
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'binary');
  return h;
}

/** ustar keeps up to 100 bytes in `name` and 155 more in `prefix`, split at a `/`. */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  const cut = path.lastIndexOf('/', path.length - 2);
  const name = path.slice(cut + 1);
  const prefix = path.slice(0, cut);
  if (cut < 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) {
    throw new Error(`tar path too long for ustar: ${path}`);
  }
  return { name, prefix };
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  h.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

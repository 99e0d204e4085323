/**
 * How a snapshot file is answered over HTTP (RFC 9110): the ETag is the quoted version, `If-None-Match` that
 * names it gets 304, a single `Range` (`bytes=a-b`, `bytes=a-`, `bytes=-n`) gets 206 unless an `If-Range`
 * names another version, a range past the end gets 416, anything else the whole file. The file's SHA-256 goes
 * out as `Repr-Digest` (RFC 9530) and, in hex, as `X-Vigil-Db-Sha256`, so a client checks what it assembled.
 * Pure: the route streams the bytes this plans.
 */
import type { SnapshotManifest } from './snapshot-store.js';

export interface FileRequestHeaders {
  'if-none-match'?: string;
  range?: string;
  'if-range'?: string;
}

export interface FileResponsePlan {
  status: 200 | 206 | 304 | 416;
  headers: Record<string, string>;
  /** inclusive byte range to send (200 and 206) */
  range?: { start: number; end: number };
}

/** `"<version>"`: the ETag of a snapshot. */
export const etagOf = (version: string): string => `"${version}"`;

const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');

function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  return start >= size ? 'unsatisfiable' : { start, end };
}

/**
 * The answer to a GET of the snapshot `manifest` describes. `mutable`: the URL names "the current snapshot"
 * (revalidate every time) rather than one version (immutable).
 */
export function planFileResponse(
  manifest: SnapshotManifest,
  request: FileRequestHeaders,
  mutable: boolean,
): FileResponsePlan {
  const etag = etagOf(manifest.version);
  const common: Record<string, string> = {
    etag,
    'accept-ranges': 'bytes',
    'cache-control': mutable ? 'private, no-cache' : 'private, max-age=31536000, immutable',
    'x-vigil-db-version': manifest.version,
    'x-vigil-db-sha256': manifest.sha256,
    'repr-digest': `sha-256=:${Buffer.from(manifest.sha256, 'hex').toString('base64')}:`,
  };
  const inm = request['if-none-match'];
  if (inm !== undefined && inm.split(',').some((t) => opaque(t) === '*' || opaque(t) === etag)) {
    return { status: 304, headers: common };
  }
  const body = {
    ...common,
    'content-type': 'application/vnd.sqlite3',
    'content-disposition': `attachment; filename="vigil-${manifest.version.slice(0, 12)}.db"`,
  };
  const whole: FileResponsePlan = {
    status: 200,
    headers: { ...body, 'content-length': String(manifest.size) },
    range: { start: 0, end: manifest.size - 1 },
  };
  const ifRange = request['if-range'];
  if (request.range === undefined || (ifRange !== undefined && ifRange.trim() !== etag)) return whole;
  const range = parseRange(request.range, manifest.size);
  if (range === null) return whole;
  if (range === 'unsatisfiable') {
    return { status: 416, headers: { ...common, 'content-range': `bytes */${manifest.size}` } };
  }
  return {
    status: 206,
    headers: {
      ...body,
      'content-length': String(range.end - range.start + 1),
      'content-range': `bytes ${range.start}-${range.end}/${manifest.size}`,
    },
    range,
  };
}

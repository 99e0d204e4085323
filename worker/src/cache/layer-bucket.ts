/**
 * The fleet's shared layer-cache bucket: a NATS JetStream object store (`OBJ_<bucket>`, works on NATS 2.9).
 * Writes go through nats.js's object store (chunks, then the entry's metadata with a subject rollup). Reads
 * are direct gets of the metadata and of each chunk in turn, checked against the metadata's chunk count, size
 * and SHA-256: a missing or altered chunk makes the entry `damaged` at once, where the library's consumer-based
 * read would wait forever for chunks that are gone. Entries are immutable: `write` leaves an entry another
 * worker stored first, unless told to replace a damaged one.
 */
import { createHash } from 'node:crypto';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { Base64UrlPaddedCodec, Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';

export interface LayerBucketOptions {
  /** object store bucket name (letters, digits, `_`, `-`) */
  bucket: string;
  /** entries expire this long after they were written (0 = never) */
  ttlMs: number;
  /** bound of the bucket's storage in bytes; when full, new entries are refused (-1 = none) */
  maxBytes: number;
  /** reads of entries larger than this are refused as damaged (the writers' entry cap) */
  maxEntryBytes: number;
  /** per JetStream request */
  timeoutMs: number;
}

export type BucketRead =
  { kind: 'found'; bytes: Buffer } | { kind: 'absent' } | { kind: 'damaged'; reason: string };

/** The object store's metadata fields a read needs (ADR-20). */
interface EntryMeta {
  nuid: string;
  size: number;
  chunks: number;
  digest: string;
}

const DIGEST_PREFIX = 'SHA-256=';
/** chunks up to this size (the library lowers it to the server's max_payload) */
const CHUNK_BYTES = 512 * 1024;

const unpadded = (b64: string): string => b64.replace(/=+$/, '');

/** The metadata in a stored message, `null` for a deleted entry, or why it is unusable. */
function parseMeta(data: Uint8Array): EntryMeta | null | string {
  let meta: unknown;
  try {
    meta = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return 'metadata is not JSON';
  }
  const m = meta as Partial<EntryMeta> & { deleted?: unknown };
  if (m.deleted === true) return null;
  const valid =
    typeof m.nuid === 'string' &&
    /^[A-Za-z0-9]+$/.test(m.nuid) &&
    Number.isSafeInteger(m.size) &&
    Number.isSafeInteger(m.chunks) &&
    typeof m.digest === 'string' &&
    m.digest.startsWith(DIGEST_PREFIX);
  return valid ? (m as EntryMeta) : 'metadata lacks nuid, size, chunks or a SHA-256 digest';
}

export class LayerBucket {
  private readonly stream: string;

  private constructor(
    private readonly options: LayerBucketOptions,
    private readonly store: ObjectStore,
    private readonly jsm: JetStreamManager,
  ) {
    this.stream = `OBJ_${options.bucket}`;
  }

  /** Opens the bucket, creating it when it does not exist. Rejects when NATS or JetStream cannot be reached. */
  static async open(nc: NatsConnection, options: LayerBucketOptions): Promise<LayerBucket> {
    const js = jetstream(nc, { timeout: options.timeoutMs });
    const store = await new Objm(js).create(options.bucket, {
      description: 'Vigil layer cache: per-layer analysis results shared by the workers',
      ttl: options.ttlMs * 1_000_000,
      max_bytes: options.maxBytes,
    });
    return new LayerBucket(options, store, await js.jetstreamManager());
  }

  private metaSubject(key: string): string {
    return `$O.${this.options.bucket}.M.${Base64UrlPaddedCodec.encode(key)}`;
  }

  /** The entry stored under `key`. Rejects only when NATS fails (or `signal` aborts). */
  async read(key: string, signal?: AbortSignal): Promise<BucketRead> {
    const stored = await this.jsm.direct.getMessage(this.stream, { last_by_subj: this.metaSubject(key) });
    if (stored === null) return { kind: 'absent' };
    const meta = parseMeta(stored.data);
    if (meta === null) return { kind: 'absent' };
    if (typeof meta === 'string') return { kind: 'damaged', reason: meta };
    if (meta.size > this.options.maxEntryBytes) {
      return {
        kind: 'damaged',
        reason: `entry of ${meta.size} bytes exceeds the ${this.options.maxEntryBytes} cap`,
      };
    }
    const chunkSubject = `$O.${this.options.bucket}.C.${meta.nuid}`;
    const parts: Uint8Array[] = [];
    const hash = createHash('sha256');
    let size = 0;
    let seq = 1;
    for (let i = 0; i < meta.chunks; i++) {
      signal?.throwIfAborted();
      const chunk = await this.jsm.direct.getMessage(this.stream, { seq, next_by_subj: chunkSubject });
      if (chunk === null) return { kind: 'damaged', reason: `chunk ${i + 1} of ${meta.chunks} is missing` };
      size += chunk.data.byteLength;
      if (size > meta.size) return { kind: 'damaged', reason: 'chunks are longer than the entry' };
      hash.update(chunk.data);
      parts.push(chunk.data);
      seq = chunk.seq + 1;
    }
    if (size !== meta.size) return { kind: 'damaged', reason: `chunks hold ${size} of ${meta.size} bytes` };
    if (unpadded(hash.digest('base64url')) !== unpadded(meta.digest.slice(DIGEST_PREFIX.length))) {
      return { kind: 'damaged', reason: 'SHA-256 digest mismatch' };
    }
    return { kind: 'found', bytes: Buffer.concat(parts) };
  }

  /**
   * Stores `bytes` under `key` unless an entry is there already (`present`): entries are immutable, and two
   * workers storing the same layer at once both succeed, the later metadata winning. Unparsable metadata is
   * cleared and written over; `replace` also overwrites an entry whose chunks were found damaged.
   */
  async write(key: string, bytes: Uint8Array, replace: boolean): Promise<'written' | 'present'> {
    const current = await this.jsm.direct.getMessage(this.stream, { last_by_subj: this.metaSubject(key) });
    const meta = current === null ? null : parseMeta(current.data);
    if (typeof meta === 'string') {
      await this.jsm.streams.purge(this.stream, { filter: this.metaSubject(key) });
    } else if (meta !== null && !replace) {
      return 'present';
    }
    await this.store.putBlob({ name: key, options: { max_chunk_size: CHUNK_BYTES } }, bytes);
    return 'written';
  }
}

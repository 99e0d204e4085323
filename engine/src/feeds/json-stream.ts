/**
 * Streaming walk of a JSON document whose top level is one large object (RFC 8259): the
 * members are handed out one at a time, each value parsed on its own, so memory holds one
 * member, never the whole tree. Made for feeds published as one big map, such as the Debian
 * security tracker's `{ "<source package>": { "<CVE>": {…} } }` (≈ 70 MB).
 *
 * A member whose value does not parse (but whose brackets balance) comes out as a `bad`
 * member and the walk goes on; damage to the top-level structure itself (not an object,
 * garbage between members, truncation) throws ENG_FEED_FORMAT.
 */
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { EngineError } from '../errors.js';

export type MemberEvent =
  | { key: string; value: unknown }
  /** the member's value is not valid JSON, or is larger than `maxMemberBytes` */
  | { key: string; bad: string };

export interface MemberStreamOptions {
  /** name for messages (file name or URL) */
  name: string;
  /** cap on one member's raw bytes; a larger one is skipped and reported `bad` (default 256 MiB) */
  maxMemberBytes?: number;
}

const enum St {
  Start,
  KeyOrEnd,
  Key,
  InKey,
  Colon,
  Value,
  InValue,
  After,
  Done,
}

const enum Kind {
  Container,
  String,
  Scalar,
}

const MAX_KEY_BYTES = 64 * 1024;

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
/** bytes that may continue a number or a literal (true, false, null) */
const isScalar = (c: number) =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x41 && c <= 0x5a) ||
  c === 0x2d ||
  c === 0x2b ||
  c === 0x2e;

/**
 * Walks the members of the top-level object in `chunks`, in document order.
 * @throws EngineError ENG_FEED_FORMAT when the top level is not one well-formed object.
 */
export async function* streamObjectMembers(
  chunks: AsyncIterable<Buffer | string>,
  options: MemberStreamOptions,
): AsyncGenerator<MemberEvent> {
  const walker = new MemberWalker(options.name, options.maxMemberBytes ?? 256 * 1024 ** 2);
  for await (const chunk of chunks) {
    const events = walker.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    for (const e of events) yield e;
  }
  walker.end();
}

class MemberWalker {
  private st = St.Start;
  private offset = 0;
  private key = '';
  private parts: Buffer[] = [];
  private size = 0;
  private over = false;
  private kind = Kind.Container;
  private depth = 0;
  private inStr = false;
  private esc = false;
  private out: MemberEvent[] = [];

  constructor(
    private readonly name: string,
    private readonly cap: number,
  ) {}

  private fail(what: string, at: number): never {
    throw new EngineError('ENG_FEED_FORMAT', `${this.name}: ${what} at byte ${at}`);
  }

  private keep(buf: Buffer, from: number, to: number, cap: number): void {
    if (this.over || to <= from) return;
    this.size += to - from;
    if (this.size > cap) {
      this.over = true;
      this.parts = [];
    } else this.parts.push(buf.subarray(from, to));
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
    this.over = false;
    this.depth = 0;
    this.inStr = false;
    this.esc = false;
  }

  push(buf: Buffer): MemberEvent[] {
    this.out = [];
    const n = buf.length;
    const base = this.offset;
    // where the value or key being captured starts in this chunk
    let from = this.st === St.InKey || this.st === St.InValue ? 0 : -1;
    for (let i = 0; i < n; i++) {
      const c = buf[i]!;
      switch (this.st) {
        case St.Start:
          if (isWs(c) || (base + i < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) break;
          if (c !== 0x7b) this.fail('not a JSON object', base + i);
          this.st = St.KeyOrEnd;
          break;
        case St.KeyOrEnd:
        case St.Key:
          if (isWs(c)) break;
          if (c === 0x7d && this.st === St.KeyOrEnd) {
            this.st = St.Done;
            break;
          }
          if (c !== 0x22) this.fail('expected a member name', base + i);
          this.reset();
          from = i;
          this.st = St.InKey;
          break;
        case St.InKey:
          if (this.esc) this.esc = false;
          else if (c === 0x5c) this.esc = true;
          else if (c === 0x22) {
            this.keep(buf, from, i + 1, MAX_KEY_BYTES);
            if (this.over) this.fail('member name too long', base + i);
            try {
              this.key = JSON.parse(Buffer.concat(this.parts).toString('utf8')) as string;
            } catch {
              this.fail('invalid member name', base + i);
            }
            from = -1;
            this.st = St.Colon;
          }
          break;
        case St.Colon:
          if (isWs(c)) break;
          if (c !== 0x3a) this.fail('expected ":"', base + i);
          this.st = St.Value;
          break;
        case St.Value:
          if (isWs(c)) break;
          this.reset();
          from = i;
          if (c === 0x7b || c === 0x5b) {
            this.kind = Kind.Container;
            this.depth = 1;
          } else if (c === 0x22) this.kind = Kind.String;
          else if (isScalar(c)) this.kind = Kind.Scalar;
          else this.fail(`unexpected byte 0x${c.toString(16)}`, base + i);
          this.st = St.InValue;
          break;
        case St.InValue: {
          let end = -1; // exclusive end of the value in this chunk
          if (this.kind === Kind.Scalar) {
            if (!isScalar(c)) end = i;
          } else if (this.esc) this.esc = false;
          else if (this.kind === Kind.String) {
            if (c === 0x5c) this.esc = true;
            else if (c === 0x22) end = i + 1;
          } else if (this.inStr) {
            if (c === 0x5c) this.esc = true;
            else if (c === 0x22) this.inStr = false;
          } else if (c === 0x22) this.inStr = true;
          else if (c === 0x7b || c === 0x5b) this.depth++;
          else if (c === 0x7d || c === 0x5d) {
            if (--this.depth === 0) end = i + 1;
          }
          if (end === -1) break;
          this.keep(buf, from, end, this.cap);
          this.emit();
          from = -1;
          this.st = St.After;
          // a scalar ends on the byte after it: look at that byte again as a delimiter
          if (end === i) i--;
          break;
        }
        case St.After:
          if (isWs(c)) break;
          if (c === 0x2c) this.st = St.Key;
          else if (c === 0x7d) this.st = St.Done;
          else this.fail('expected "," or "}" after a member', base + i);
          break;
        case St.Done:
          if (!isWs(c)) this.fail('data after the end of the document', base + i);
          break;
      }
    }
    if (from !== -1) {
      if (this.st === St.InKey) {
        this.keep(buf, from, n, MAX_KEY_BYTES);
        if (this.over) this.fail('member name too long', base + n);
      } else this.keep(buf, from, n, this.cap);
    }
    this.offset += n;
    return this.out;
  }

  private emit(): void {
    if (this.over) {
      this.out.push({ key: this.key, bad: `member larger than ${this.cap} bytes` });
      return;
    }
    const text = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    try {
      this.out.push({ key: this.key, value: JSON.parse(text) as unknown });
    } catch (e) {
      this.out.push({ key: this.key, bad: (e as Error).message });
    }
  }

  /** End of input: throws unless the document was complete. */
  end(): void {
    if (this.st === St.Done) return;
    // a document that ends right after a top-level scalar member cannot be complete: "}" is missing
    this.fail(this.st === St.Start ? 'empty document' : 'truncated document', this.offset);
  }
}

/**
 * The decoded bytes of a feed body: gunzipped when it starts with the gzip magic (1f 8b),
 * as is otherwise. Errors of the source are forwarded.
 */
export async function maybeGunzip(source: Readable): Promise<Readable> {
  const { head, stream } = await peekBytes(source, 2);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    stream.on('error', (e) => gunzip.destroy(e));
    return stream.pipe(gunzip);
  }
  return stream;
}

/**
 * Reads up to `n` bytes from a paused stream without consuming them: `stream` yields every byte
 * again (the same stream with the bytes put back, or a new one when the source already ended).
 */
export async function peekBytes(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = stream.read() as Buffer | string | null;
    if (chunk !== null) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(b);
      have += b.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    const ended = await new Promise<boolean>((resolve, reject) => {
      const done = (value: boolean, error?: Error) => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('error', onError);
        if (error) reject(error);
        else resolve(value);
      };
      const onReadable = () => done(false);
      const onEnd = () => done(true);
      const onError = (e: Error) => done(true, e);
      stream.once('readable', onReadable);
      stream.once('end', onEnd);
      stream.once('error', onError);
    });
    if (ended) break;
  }
  const head = Buffer.concat(chunks);
  if (stream.readableEnded || stream.destroyed)
    return { head, stream: Readable.from(head.length > 0 ? [head] : []) };
  if (head.length > 0) stream.unshift(head);
  return { head, stream };
}

/**
 * A streaming scanner for a JSON document whose top level is one object with one large array
 * member (the NVD API page's `vulnerabilities`, ≤ 2,000 CVEs, 20–40 MB). It walks the bytes once
 * (RFC 8259 structure: strings, escapes, nesting) and hands out the other top-level members as
 * parsed values and each array element as its raw text, so memory stays at one element at a time
 * however large the page is. Element text is not validated here: the caller JSON.parses it and
 * counts an element that does not parse as malformed. Structural damage at the top level (not an
 * object, truncation, trailing garbage) throws ENG_FEED_FORMAT.
 */
import { EngineError } from '../../errors.js';

export type ScanEvent =
  /** a top-level member other than the streamed array, parsed */
  | { kind: 'field'; key: string; value: unknown }
  /** the streamed array begins */
  | { kind: 'array-start' }
  /** one array element: its raw JSON text, or `tooLarge` when it exceeded the element cap */
  | { kind: 'element'; index: number; raw?: string; tooLarge?: boolean };

export interface ScanOptions {
  /** the top-level member streamed element by element */
  arrayKey: string;
  /** cap on any other top-level member (its raw bytes); beyond it the body is refused */
  maxFieldBytes: number;
  /** cap on one array element; a bigger one is skipped and reported `tooLarge` */
  maxElementBytes: number;
  /** name for messages */
  name: string;
}

const enum S {
  Before,
  KeyOrEnd,
  Key,
  InKey,
  Colon,
  Value,
  InField,
  AfterValue,
  ElemOrEnd,
  Elem,
  InElem,
  AfterElem,
  Done,
}

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
/** bytes that may continue a number or a literal (true/false/null) */
const isScalar = (c: number) =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x41 && c <= 0x5a) ||
  c === 0x2d ||
  c === 0x2b ||
  c === 0x2e;

/** Index of the next `byte` in `buf` at or after `from`, or buf.length when there is none. */
const find = (buf: Buffer, byte: number, from: number) => {
  const k = buf.indexOf(byte, from);
  return k < 0 ? buf.length : k;
};

/** Scans `chunks` (raw JSON bytes), yielding members and elements in document order. */
export async function* scanTopLevel(
  chunks: AsyncIterable<Buffer>,
  options: ScanOptions,
): AsyncGenerator<ScanEvent> {
  const scanner = new TopLevelScanner(options);
  for await (const chunk of chunks) {
    const events = scanner.push(chunk);
    for (const e of events) yield e;
  }
  scanner.end();
}

class TopLevelScanner {
  private state = S.Before;
  private pos = 0;
  private key = '';
  // the value being captured (member, element or key)
  private parts: Buffer[] = [];
  private size = 0;
  private over = false;
  private kind = 0; // 0 container, 1 string, 2 scalar
  private depth = 0;
  private inStr = false;
  private esc = false;
  private index = 0;
  private out: ScanEvent[] = [];

  constructor(private readonly o: ScanOptions) {}

  private fail(what: string): never {
    throw new EngineError('ENG_FEED_FORMAT', `${this.o.name}: ${what} at byte ${this.pos}`);
  }

  /** Starts a value whose first byte `c` has been consumed. */
  private begin(c: number): void {
    this.parts = [];
    this.size = 0;
    this.over = false;
    this.depth = 0;
    this.inStr = false;
    this.esc = false;
    if (c === 0x7b || c === 0x5b) {
      this.kind = 0;
      this.depth = 1;
    } else if (c === 0x22) this.kind = 1;
    else if (isScalar(c)) this.kind = 2;
    else this.fail(`unexpected byte 0x${c.toString(16)}`);
  }

  private keep(buf: Buffer, from: number, to: number, cap: number): void {
    if (this.over || to <= from) return;
    this.size += to - from;
    if (this.size > cap) {
      this.over = true;
      this.parts = [];
    } else this.parts.push(buf.subarray(from, to));
  }

  /** Advances the value scanner over byte `c`: the value goes on, ended with `c`, or ended before `c`. */
  private step(c: number): 'more' | 'ended-here' | 'ended-before' {
    if (this.kind === 2) return isScalar(c) ? 'more' : 'ended-before';
    if (this.esc) {
      this.esc = false;
      return 'more';
    }
    if (this.kind === 1) {
      if (c === 0x5c) this.esc = true;
      else if (c === 0x22) return 'ended-here';
      return 'more';
    }
    if (this.inStr) {
      if (c === 0x5c) this.esc = true;
      else if (c === 0x22) this.inStr = false;
      return 'more';
    }
    if (c === 0x22) this.inStr = true;
    else if (c === 0x7b || c === 0x5b) this.depth++;
    else if (c === 0x7d || c === 0x5d) {
      this.depth--;
      if (this.depth === 0) return 'ended-here';
    }
    return 'more';
  }

  push(buf: Buffer): ScanEvent[] {
    this.out = [];
    const n = buf.length;
    let capFrom = this.capturing() ? 0 : -1;
    // next quote and backslash at or after i (n: none): inside a string nothing else matters,
    // so the scan jumps there with the native indexOf instead of stepping byte by byte
    let quote = -1;
    let backslash = -1;
    for (let i = 0; i < n; i++, this.pos++) {
      if (!this.esc && (this.kind === 1 || this.inStr) && this.capturing()) {
        if (quote < i) quote = find(buf, 0x22, i);
        if (backslash < i) backslash = find(buf, 0x5c, i);
        const j = quote < backslash ? quote : backslash;
        this.pos += j - i;
        i = j;
        if (i >= n) break;
      }
      const c = buf[i]!;
      switch (this.state) {
        case S.Before:
          if (isWs(c) || (this.pos < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) break;
          if (c !== 0x7b) this.fail('not a JSON object');
          this.state = S.KeyOrEnd;
          break;
        case S.KeyOrEnd:
        case S.Key:
          if (isWs(c)) break;
          if (c === 0x7d && this.state === S.KeyOrEnd) {
            this.state = S.Done;
            break;
          }
          if (c !== 0x22) this.fail('expected a member name');
          this.begin(c);
          capFrom = i;
          this.state = S.InKey;
          break;
        case S.InKey: {
          const r = this.step(c);
          if (r === 'more') break;
          this.keep(buf, capFrom, i + 1, 4096);
          if (this.over) this.fail('member name too long');
          try {
            this.key = JSON.parse(Buffer.concat(this.parts).toString('utf8')) as string;
          } catch {
            this.fail('member name is not a valid JSON string');
          }
          capFrom = -1;
          this.state = S.Colon;
          break;
        }
        case S.Colon:
          if (isWs(c)) break;
          if (c !== 0x3a) this.fail('expected ":"');
          this.state = S.Value;
          break;
        case S.Value:
          if (isWs(c)) break;
          if (c === 0x5b && this.key === this.o.arrayKey) {
            this.out.push({ kind: 'array-start' });
            this.state = S.ElemOrEnd;
            break;
          }
          this.begin(c);
          capFrom = i;
          this.state = S.InField;
          break;
        case S.InField: {
          const r = this.step(c);
          if (r === 'more') break;
          const end = r === 'ended-here' ? i + 1 : i;
          this.keep(buf, capFrom, end, this.o.maxFieldBytes);
          if (this.over) this.fail(`member "${this.key}" exceeds ${this.o.maxFieldBytes} bytes`);
          const text = Buffer.concat(this.parts).toString('utf8');
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            this.fail(`member "${this.key}" is not valid JSON`);
          }
          this.out.push({ kind: 'field', key: this.key, value });
          this.parts = [];
          capFrom = -1;
          this.state = S.AfterValue;
          if (r === 'ended-before') {
            i--;
            this.pos--;
          }
          break;
        }
        case S.AfterValue:
          if (isWs(c)) break;
          if (c === 0x2c) this.state = S.Key;
          else if (c === 0x7d) this.state = S.Done;
          else this.fail('expected "," or "}"');
          break;
        case S.ElemOrEnd:
        case S.Elem:
          if (isWs(c)) break;
          if (c === 0x5d && this.state === S.ElemOrEnd) {
            this.state = S.AfterValue;
            break;
          }
          this.begin(c);
          capFrom = i;
          this.state = S.InElem;
          break;
        case S.InElem: {
          const r = this.step(c);
          if (r === 'more') break;
          const end = r === 'ended-here' ? i + 1 : i;
          this.keep(buf, capFrom, end, this.o.maxElementBytes);
          const index = this.index++;
          if (this.over) this.out.push({ kind: 'element', index, tooLarge: true });
          else this.out.push({ kind: 'element', index, raw: Buffer.concat(this.parts).toString('utf8') });
          this.parts = [];
          capFrom = -1;
          this.state = S.AfterElem;
          if (r === 'ended-before') {
            i--;
            this.pos--;
          }
          break;
        }
        case S.AfterElem:
          if (isWs(c)) break;
          if (c === 0x2c) this.state = S.Elem;
          else if (c === 0x5d) this.state = S.AfterValue;
          else this.fail('expected "," or "]" between array elements');
          break;
        case S.Done:
          if (!isWs(c)) this.fail('data after the end of the document');
          break;
      }
    }
    if (capFrom !== -1) {
      const cap =
        this.state === S.InKey
          ? 4096
          : this.state === S.InField
            ? this.o.maxFieldBytes
            : this.o.maxElementBytes;
      this.keep(buf, capFrom, n, cap);
      if (this.over && this.state === S.InKey) this.fail('member name too long');
      if (this.over && this.state === S.InField)
        this.fail(`member "${this.key}" exceeds ${this.o.maxFieldBytes} bytes`);
    }
    return this.out;
  }

  private capturing(): boolean {
    return this.state === S.InKey || this.state === S.InField || this.state === S.InElem;
  }

  /** Call at the end of input: throws unless the document was complete. */
  end(): void {
    if (this.state !== S.Done) this.fail(this.state === S.Before ? 'empty document' : 'truncated document');
  }
}

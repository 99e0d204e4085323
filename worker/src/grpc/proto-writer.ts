/**
 * A small protobuf binary writer for the hand-written report encoder (report-encoder.ts): one
 * growing `Uint8Array`, reused from message to message, with the same bytes protobuf-es's
 * `BinaryWriter` writes (https://protobuf.dev/programming-guides/encoding/).
 *
 * protobuf-es's writer keeps a `number[]` per nested message and copies them together on `join`;
 * here a nested message gets one byte for its length and is moved up in place when the length
 * needs more (128 bytes or more: most packages and findings, and the chunk itself).
 */
import { encodeUtf8 } from './text-encoding.js';

/** Wire types (protobuf-es `WireType`). */
export const VARINT = 0;
export const BIT64 = 1;
export const LENGTH_DELIMITED = 2;

const float64 = new DataView(new ArrayBuffer(8));
const float64Bytes = new Uint8Array(float64.buffer);

/** Bytes a varint of the unsigned 32-bit `value` takes. */
const varintSize = (value: number) =>
  value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;

/** The key (tag) of field `field` with wire type `wireType`, for the `…Field` methods. */
export const key = (field: number, wireType: number) => (field << 3) | wireType;

/**
 * Each `…Field` method writes a whole field (key and value) with one capacity check: in a worker's
 * first job this code runs before V8 compiles it, where every call counts.
 */
export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialSize = 1024 * 1024) {
    this.buf = new Uint8Array(initialSize);
  }

  /** Starts a new message (the buffer is kept). */
  reset(): void {
    this.pos = 0;
  }

  /** Capacity of the buffer, so a caller can drop a writer that grew for one huge message. */
  get capacity(): number {
    return this.buf.length;
  }

  /** The bytes written since `reset`, copied into a Buffer of their own (gRPC keeps it while queued). */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }

  private grow(more: number): void {
    const need = this.pos + more;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  /** An unsigned 32-bit varint at `pos` (room checked by the caller); returns the position after it. */
  private static varint(buf: Uint8Array, pos: number, value: number): number {
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    return pos;
  }

  /** A varint field of an unsigned 32-bit value (protobuf-es `uint32`, and `int32`/enum of a value ≥ 0). */
  uint32Field(key: number, value: number): void {
    if (this.pos + 10 > this.buf.length) this.grow(10);
    this.pos = ProtoWriter.varint(this.buf, ProtoWriter.varint(this.buf, this.pos, key), value);
  }

  boolField(key: number, value: boolean): void {
    if (this.pos + 6 > this.buf.length) this.grow(6);
    const pos = ProtoWriter.varint(this.buf, this.pos, key);
    this.buf[pos] = value ? 1 : 0;
    this.pos = pos + 1;
  }

  /** A 64-bit field of an IEEE 754 double, little-endian. */
  doubleField(key: number, value: number): void {
    if (this.pos + 13 > this.buf.length) this.grow(13);
    const pos = ProtoWriter.varint(this.buf, this.pos, key);
    float64.setFloat64(0, value, true);
    this.buf.set(float64Bytes, pos);
    this.pos = pos + 8;
  }

  /**
   * A length-delimited field of the UTF-8 bytes of `text`: ASCII is copied by a loop straight into
   * the buffer, anything else goes through `encodeUtf8` (TextEncoder's bytes: a lone surrogate
   * becomes U+FFFD).
   */
  stringField(key: number, text: string): void {
    const n = text.length;
    if (this.pos + n + 10 > this.buf.length) this.grow(n + 10);
    const buf = this.buf;
    const start = ProtoWriter.varint(buf, this.pos, key);
    let pos = n < 0x80 ? ((buf[start] = n), start + 1) : ProtoWriter.varint(buf, start, n);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        this.pos = start;
        this.bytes(encodeUtf8(text));
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** A length-delimited field of `data`. */
  bytesField(key: number, data: Uint8Array): void {
    if (this.pos + 5 > this.buf.length) this.grow(5);
    this.pos = ProtoWriter.varint(this.buf, this.pos, key);
    this.bytes(data);
  }

  private bytes(data: Uint8Array): void {
    if (this.pos + data.length + 5 > this.buf.length) this.grow(data.length + 5);
    const pos = ProtoWriter.varint(this.buf, this.pos, data.length);
    this.buf.set(data, pos);
    this.pos = pos + data.length;
  }

  /** Starts a length-delimited field of a nested message; returns what `join` needs. */
  fork(key: number): number {
    if (this.pos + 6 > this.buf.length) this.grow(6);
    const at = ProtoWriter.varint(this.buf, this.pos, key);
    this.pos = at + 1;
    return at;
  }

  /** Ends the nested message `fork` started: writes its length before it. */
  join(at: number): void {
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return;
    }
    const size = varintSize(length);
    if (this.pos + size > this.buf.length) this.grow(size);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    ProtoWriter.varint(this.buf, at, length);
  }
}

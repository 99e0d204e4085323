/**
 * A small protobuf binary writer for the hand-written report encoder (report-encoder.ts): one
 * growing `Uint8Array`, reused from message to message, with the same bytes protobuf-es's
 * `BinaryWriter` writes (https://protobuf.dev/programming-guides/encoding/).
 *
 * protobuf-es's writer keeps a `number[]` per nested message and copies them together on `join`;
 * here a nested message gets one byte for its length and is moved up in place on the rare
 * occasion the length needs more (128 bytes or more: a package, a finding, the chunk itself).
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

export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialSize = 64 * 1024) {
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

  private ensure(more: number): void {
    const need = this.pos + more;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  /** An unsigned 32-bit varint (protobuf-es `uint32`, and `int32` of a value ≥ 0). */
  uint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** IEEE 754 double, little-endian. */
  double(value: number): void {
    this.ensure(8);
    float64.setFloat64(0, value, true);
    this.buf.set(float64Bytes, this.pos);
    this.pos += 8;
  }

  /**
   * Length and UTF-8 bytes of `text`: ASCII is copied by a loop straight into the buffer, anything
   * else goes through `encodeUtf8` (TextEncoder's bytes: a lone surrogate becomes U+FFFD).
   */
  string(text: string): void {
    const n = text.length;
    const start = this.pos;
    this.ensure(n + 5);
    this.uint32(n);
    const buf = this.buf;
    let pos = this.pos;
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

  /** Length and `data`. */
  bytes(data: Uint8Array): void {
    this.uint32(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Starts a length-delimited nested message (after its tag); returns what `join` needs. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the nested message `fork` started: writes its length before it. */
  join(at: number): void {
    const length = this.pos - at - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.ensure(size - 1);
      this.buf.copyWithin(at + size, at + 1, this.pos);
      this.pos += size - 1;
    }
    const end = this.pos;
    this.pos = at;
    this.uint32(length);
    this.pos = end;
  }
}

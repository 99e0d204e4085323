/**
 * A small deterministic mutation fuzzer: bit flips, byte sets, truncation, chunk duplication,
 * deletion and splicing of seed inputs. Used to check that parsers never throw uncoded errors
 * on hostile input. Deterministic (seeded PRNG) so a failure reproduces.
 */

/** Mulberry32: tiny, fast, good enough for mutation choices. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x0a, 0x3a, 0x20, 0x2f, 0x2e, 0x22, 0x7b, 0x7d];

/** Returns a mutated copy of `input` (1–8 stacked mutations). */
export function mutate(input: Uint8Array, rand: () => number, seeds: readonly Uint8Array[] = []): Buffer {
  let buf = Buffer.from(input);
  const n = 1 + Math.floor(rand() * 8);
  const pick = (max: number) => Math.floor(rand() * Math.max(1, max));
  for (let i = 0; i < n; i++) {
    const op = pick(8);
    if (buf.length === 0 && op !== 6) {
      buf = Buffer.from([pick(256)]);
      continue;
    }
    switch (op) {
      case 0: {
        const p = pick(buf.length);
        buf[p] = buf[p]! ^ (1 << pick(8));
        break;
      }
      case 1:
        buf[pick(buf.length)] = INTERESTING[pick(INTERESTING.length)]!;
        break;
      case 2:
        buf = buf.subarray(0, pick(buf.length));
        break;
      case 3: {
        const s = pick(buf.length);
        const len = 1 + pick(Math.min(256, buf.length - s));
        const at = pick(buf.length);
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(s, s + len), buf.subarray(at)]);
        break;
      }
      case 4: {
        const s = pick(buf.length);
        buf = Buffer.concat([buf.subarray(0, s), buf.subarray(s + 1 + pick(64))]);
        break;
      }
      case 5: {
        // overwrite 4 bytes with a random 32-bit integer (length fields, offsets, counts)
        const p = pick(Math.max(1, buf.length - 4));
        if (p + 4 <= buf.length) buf.writeUInt32BE(Math.floor(rand() * 0xffffffff), p);
        break;
      }
      case 6: {
        const other = seeds.length ? seeds[pick(seeds.length)]! : buf;
        const s = pick(other.length);
        buf = Buffer.concat([
          buf.subarray(0, pick(buf.length)),
          Buffer.from(other.subarray(s, s + pick(512))),
        ]);
        break;
      }
      default: {
        const at = pick(buf.length);
        const junk = Buffer.alloc(1 + pick(16));
        for (let j = 0; j < junk.length; j++) junk[j] = pick(256);
        buf = Buffer.concat([buf.subarray(0, at), junk, buf.subarray(at)]);
      }
    }
  }
  return buf;
}

export interface FuzzFailure {
  iteration: number;
  error: unknown;
  input: Buffer;
}

/**
 * Runs `fn` on `iterations` mutations of the seeds. `fn` may throw only errors that `allowed`
 * accepts (default: none). Returns the failures (the test asserts the list is empty).
 */
export async function fuzz(
  seeds: readonly Uint8Array[],
  iterations: number,
  fn: (input: Buffer) => unknown,
  options: { seed?: number; allowed?: (e: unknown) => boolean } = {},
): Promise<FuzzFailure[]> {
  const rand = prng(options.seed ?? 0x5eed);
  const failures: FuzzFailure[] = [];
  for (let i = 0; i < iterations; i++) {
    const base = seeds[i % seeds.length]!;
    const input = mutate(base, rand, seeds);
    try {
      await fn(input);
    } catch (error) {
      if (!options.allowed?.(error)) {
        failures.push({ iteration: i, error, input });
        if (failures.length >= 5) break;
      }
    }
  }
  return failures;
}

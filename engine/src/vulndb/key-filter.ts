/**
 * A Bloom filter over the snapshot's (namespace, package) keys, so a lookup of a package no feed
 * mentions (most of a scan's packages) is answered in JavaScript without a SQLite statement.
 *
 * Derived data, not content: it is rebuilt from the `affected` keys whenever they change, is not
 * part of the content hash, and `verifySnapshot` rebuilds it to check the stored one (a damaged
 * filter could hide rows, never add them).
 *
 * Layout: `m` bits (a power of two, ≥ 10 bits per key), `k` = 7 probes at positions
 * h1 + i·h2 mod m (Kirsch–Mitzenmacher double hashing), h1 and h2 being 32-bit FNV-1a variants
 * over the UTF-16 code units of namespace, a 0 unit and package. False positives ≈ 0.3–0.8 %.
 */

/** Probes per key. */
const K = 7;
/** Bits per key at least (rounded up to a power of two overall). */
const BITS_PER_KEY = 10;

/**
 * h1: FNV-1a over the code units of namespace, a 0 unit, then packageName (no string is built:
 * most lookups end here).
 */
function hash1(namespace: string, packageName: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < namespace.length; i++) h = Math.imul(h ^ namespace.charCodeAt(i), 0x01000193);
  h = Math.imul(h, 0x01000193); // the 0 separator
  for (let i = 0; i < packageName.length; i++) h = Math.imul(h ^ packageName.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** h2: FNV-1a with another offset over the same units backwards, made odd. */
function hash2(namespace: string, packageName: string): number {
  let h = 0x050c5d1f;
  for (let i = packageName.length - 1; i >= 0; i--) h = Math.imul(h ^ packageName.charCodeAt(i), 0x01000193);
  h = Math.imul(h, 0x01000193);
  for (let i = namespace.length - 1; i >= 0; i--) h = Math.imul(h ^ namespace.charCodeAt(i), 0x01000193);
  // odd, so the probe sequence visits distinct positions
  return (h | 1) >>> 0;
}

export class KeyFilter {
  private readonly mask: number;

  /**
   * @param bits the bit array, `bits.length * 8` a power of two
   * @param probes number of probes (k)
   */
  constructor(
    readonly bits: Uint8Array,
    readonly probes: number = K,
  ) {
    this.mask = bits.length * 8 - 1;
  }

  /** An empty filter sized for `keys` keys. */
  static sized(keys: number): KeyFilter {
    let m = 64;
    while (m < keys * BITS_PER_KEY) m *= 2;
    return new KeyFilter(new Uint8Array(m / 8));
  }

  /** True when `bits` and `probes` are a usable filter (a stored filter may be damaged). */
  static valid(bits: Uint8Array, probes: number): boolean {
    const m = bits.length * 8;
    return (
      m >= 64 &&
      m <= 2 ** 31 &&
      (m & (m - 1)) === 0 &&
      Number.isInteger(probes) &&
      probes >= 1 &&
      probes <= 32
    );
  }

  add(namespace: string, packageName: string): void {
    const h1 = hash1(namespace, packageName);
    const h2 = hash2(namespace, packageName);
    for (let i = 0; i < this.probes; i++) {
      const p = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[p >>> 3]! |= 1 << (p & 7);
    }
  }

  /** False: the key is certainly absent. True: it may be present. */
  mayHave(namespace: string, packageName: string): boolean {
    const h1 = hash1(namespace, packageName);
    const h2 = hash2(namespace, packageName);
    for (let i = 0; i < this.probes; i++) {
      const p = (h1 + Math.imul(i, h2)) & this.mask;
      if ((this.bits[p >>> 3]! & (1 << (p & 7))) === 0) return false;
    }
    return true;
  }
}

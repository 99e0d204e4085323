/**
 * A byte-bounded least-recently-used map of encoded cache entries: the worker's first tier, so a layer used by
 * many scans in one process is fetched once. It keeps bytes, not decoded objects: every get decodes a fresh
 * copy, because a scan's merge writes into the analysis it is given.
 */

export class ByteLru {
  private readonly entries = new Map<string, Uint8Array>();
  private used = 0;

  /** `maxBytes` bounds the sum of the kept values; a value over a quarter of it is not kept at all */
  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  get(key: string): Uint8Array | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Map iteration follows insertion order: re-inserting makes this the most recently used
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: Uint8Array): void {
    this.delete(key);
    if (value.byteLength > this.maxBytes / 4) return;
    this.entries.set(key, value);
    this.used += value.byteLength;
    for (const [oldest, old] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.used -= old.byteLength;
    }
  }

  delete(key: string): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.used -= value.byteLength;
  }
}

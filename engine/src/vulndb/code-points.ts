/**
 * Code point order of strings: UTF-8 byte order, the order of SQLite's BINARY collation. Code that
 * merges or sorts alongside a snapshot's `ORDER BY` uses it (JavaScript's `<` compares UTF-16 code
 * units, which differs for characters outside the Basic Multilingual Plane).
 */

/** Compares by code points (= UTF-8 byte order, SQLite's BINARY collation): negative, 0 or positive. */
export function cmpCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * Structure-aware mutation of JSON documents for fuzzing parsers that get past JSON.parse:
 * replaces, deletes or duplicates values at random places with values of other types
 * (null, numbers, strings that look like ids and purls, empty and nested containers).
 * Byte-level mutation (test/support/fuzz.ts) mostly breaks the JSON syntax; this reaches the
 * document readers. Deterministic for a given PRNG.
 */

type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

const ODD_VALUES: JsonValue[] = [
  null,
  true,
  0,
  -1,
  1e308,
  '',
  ' ',
  'pkg:',
  'pkg:npm/%zz',
  'pkg:apk/alpine/musl',
  'pkg:golang/x@v1',
  'urn:cdx:x/1#',
  'CVE-2019-14697',
  'not_affected',
  'OPERATING-SYSTEM',
  'operating-system',
  'SPDXRef-DOCUMENT',
  '2030-01-01',
  '__proto__',
  [],
  {},
  [null],
  { '@id': 'pkg:npm/lodash' },
  { components: 1 },
];

function containers(v: JsonValue, out: (JsonValue[] | { [k: string]: JsonValue })[] = [], depth = 0): typeof out {
  if (depth > 12 || v === null || typeof v !== 'object') return out;
  out.push(v);
  for (const child of Array.isArray(v) ? v : Object.values(v)) containers(child, out, depth + 1);
  return out;
}

/** Returns a mutated deep copy of `doc` (1–4 edits). */
export function mutateJson(doc: unknown, rand: () => number): unknown {
  const copy = JSON.parse(JSON.stringify(doc)) as JsonValue;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const all = containers(copy);
    if (all.length === 0) break;
    const target = pick(all);
    const keys = Array.isArray(target) ? target.map((_, i) => i) : Object.keys(target);
    if (keys.length === 0) continue;
    const key = pick(keys as (string | number)[]);
    const op = Math.floor(rand() * 4);
    const rec = target as Record<string | number, JsonValue>;
    if (op === 0) rec[key] = pick(ODD_VALUES);
    else if (op === 1) delete rec[key];
    else if (op === 2 && Array.isArray(target)) target.push(JSON.parse(JSON.stringify(target[key as number] ?? null)) as JsonValue);
    else rec[key] = JSON.parse(JSON.stringify(pick(containers(copy)))) as JsonValue; // a subtree copied elsewhere
  }
  return copy;
}

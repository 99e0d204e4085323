/**
 * Small shape checks for untrusted JSON: each returns the typed value or throws ShapeError, which
 * the record parsers turn into one `malformed` record (the feed goes on).
 */

export class ShapeError extends Error {
  override name = 'ShapeError';
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function fail(message: string): never {
  throw new ShapeError(message);
}

/** A string field; absent or null → undefined; empty string → undefined. */
export function optString(obj: Json, key: string, where = ''): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`${where}${key} is not a string`);
  return v === '' ? undefined : v;
}

/** An array field; absent or null → []. */
export function optArray(obj: Json, key: string, where = ''): unknown[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`${where}${key} is not an array`);
  return v;
}

/** An array of strings; absent or null → []. */
export function optStrings(obj: Json, key: string, where = ''): string[] {
  const list = optArray(obj, key, where);
  for (const item of list) if (typeof item !== 'string') fail(`${where}${key} holds a non-string`);
  return list as string[];
}

/** An object field; absent or null → undefined. */
export function optObject(obj: Json, key: string, where = ''): Json | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(`${where}${key} is not an object`);
  return v;
}

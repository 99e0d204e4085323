/**
 * Opaque keyset cursors: base64url JSON of the listing's sort tag and the last row's sort key values (as text,
 * exactly as Postgres printed them, so timestamps keep their microseconds). Row-value comparison on the key
 * (`(a, b) > ($1, $2)`) makes pages stable under inserts: no row twice, no row present throughout skipped.
 */
import { ControlPlaneError } from '../../errors.js';

/** Default and maximum page sizes of every listing. */
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

/** Encodes the key of the last row of a page for a listing sorted by `sort`. */
export function encodeCursor(sort: string, key: readonly string[]): string {
  return Buffer.from(JSON.stringify([sort, ...key]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor issued by {@link encodeCursor} for the same `sort` and key length.
 * Throws CP_CURSOR_INVALID for anything else (garbage, another sort, another listing).
 */
export function decodeCursor(cursor: string, sort: string, arity: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== arity + 1 ||
    parsed[0] !== sort ||
    !parsed.every((v): v is string => typeof v === 'string')
  ) {
    throw new ControlPlaneError('CP_CURSOR_INVALID', `cursor was not issued for this listing (sort ${sort})`);
  }
  return parsed.slice(1);
}

/** Validates a page size: default {@link DEFAULT_PAGE_LIMIT}; CP_INVALID_ARGUMENT outside 1..{@link MAX_PAGE_LIMIT}. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`,
    );
  }
  return limit;
}

/**
 * JSONEachRow text (one JSON object per line, https://clickhouse.com/docs/interfaces/formats/JSONEachRow), the
 * format both drivers use for rows in and out.
 */
import type { Row } from './driver.js';

/** Parses JSONEachRow output; blank lines are skipped. */
export function parseJsonEachRow<R>(text: string): R[] {
  const rows: R[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as R);
    start = end + 1;
  }
  return rows;
}

/** Serialises rows as a JSONEachRow payload. JSON.stringify escapes newlines, so one line is one row. */
export function toJsonEachRow(rows: readonly Row[]): Buffer {
  return Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n'), 'utf8');
}

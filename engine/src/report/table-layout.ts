/**
 * Plain-text column layout for the human table: columns sized to content, two spaces apart, a
 * rule of `─` under the header, no trailing spaces. Colour is applied to a cell's text only,
 * after the width is measured, so escape sequences never disturb the alignment.
 */
import { oneLine, padEnd, width } from './text.js';

/** Styles a cell's (already sanitised) text; identity when colour is off. */
export type Paint = (text: string, column: number, row: number) => string;

/** Terminal styles (SGR). */
export const STYLE = {
  bold: (s: string) => `\x1b[1m${s}\x1b[22m`,
  red: (s: string) => `\x1b[31m${s}\x1b[39m`,
  boldRed: (s: string) => `\x1b[1;31m${s}\x1b[0m`,
  yellow: (s: string) => `\x1b[33m${s}\x1b[39m`,
  blue: (s: string) => `\x1b[34m${s}\x1b[39m`,
  dim: (s: string) => `\x1b[2m${s}\x1b[22m`,
} as const;

/**
 * Lays out `rows` under `header`. Every cell goes through oneLine (no line breaks or control
 * characters reach the terminal). `paint` styles body cells (row index from 0) and is called with
 * row -1 for header cells.
 */
export function layoutTable(header: readonly string[], rows: readonly string[][], paint?: Paint): string {
  const clean = rows.map((r) => header.map((_, i) => oneLine(r[i] ?? '')));
  const widths = header.map((h, i) => Math.max(width(h), ...clean.map((r) => width(r[i]!))));
  const line = (cells: readonly string[], row: number) =>
    cells
      .map((c, i) => {
        const styled = paint && c ? paint(c, i, row) : c;
        return i === cells.length - 1 ? styled : styled + padEnd('', widths[i]! - width(c));
      })
      .join('  ')
      .trimEnd();
  return [line(header, -1), widths.map((w) => '─'.repeat(w)).join('  '), ...clean.map(line)].join('\n');
}

/**
 * Text hygiene for human-readable reports. Package names, versions, titles and paths come from
 * the scanned image and from feeds: they may hold newlines, terminal escape sequences or
 * bidirectional overrides, and must never change how a report is laid out or displayed.
 */

// C0 and C1 controls, DEL, and the bidi embedding/override/isolate characters ("Trojan Source").
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of plain text: tabs and line breaks become spaces, other control characters (ESC of
 * terminal sequences, NUL…) and bidi overrides become U+FFFD, runs of spaces collapse, ends are
 * trimmed.
 */
export function oneLine(text: string): string {
  return text
    .replace(/[\t\n\r\v\f\u0085\u2028\u2029]+/g, ' ')
    .replace(UNSAFE, '\uFFFD')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Multi-line text with bidi overrides and control characters other than TAB and LF replaced by U+FFFD (CR LF → LF). */
export function safeLines(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\uFFFD')
  );
}

/** At most `max` code points; a cut string ends with `…` (counted in `max`). */
export function truncate(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Display width in code points (wide East Asian characters count as one: good enough for tables). */
export function width(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Pads to a display width with spaces on the right. */
export function padEnd(text: string, to: number): string {
  const w = width(text);
  return w >= to ? text : text + ' '.repeat(to - w);
}

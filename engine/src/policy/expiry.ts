/**
 * Expiry dates of ignore entries: `YYYY-MM-DD` (the start of that day, UTC: the entry stops
 * applying on that date, as trivy's `exp:` does) or an RFC 3339 date-time
 * (https://www.rfc-editor.org/rfc/rfc3339#section-5.6) with `Z` or a numeric offset.
 */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Date.UTC without its two-digit-year quirk (years 0-99 are not 1900-1999 here). */
function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(utc(y, m, 0)).getUTCDate();
}

/** Milliseconds since the epoch of the expiry `text`, or undefined when it is not a valid date. */
export function parseExpiry(text: string): number | undefined {
  let m = DATE_RE.exec(text);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validDate(y, mo, d) ? utc(y, mo - 1, d) : undefined;
  }
  m = DATE_TIME_RE.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m![i]));
  if (!validDate(y!, mo!, d!) || h! > 23 || mi! > 59 || s! > 60) return undefined;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return undefined;
  const frac = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const offset = m[9] ? (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) : 0;
  // a leap second (:60) counts as the next second
  return utc(y!, mo! - 1, d!, h!, mi!, s!, frac) - offset * 60_000;
}

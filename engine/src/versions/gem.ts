/**
 * RubyGems versions, ordered like Gem::Version (https://guides.rubygems.org/patterns/#semantic-versioning,
 * rubygems lib/rubygems/version.rb).
 *
 * Valid: `\s*[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\s*`; a `-` is read as
 * `.pre.`. Segments are the runs of digits and of letters (`1.0.rc1` → 1, 0, "rc", 1). The
 * canonical form splits them at the first letter segment and drops trailing zeros of each half
 * (`1.0.0` = `1`, `1.0.a.0` = `1.a`). Comparison pads with 0; a letter segment sorts below any
 * number (so `1.0.a < 1.0`, a pre-release), numbers compare as integers, letter segments by byte.
 * Gem::Version reads an empty string as "0"; here it is rejected as a missing value.
 *
 * @renovatebot/ruby-semver was tried first; its Version#compare uses localeCompare for letter
 * segments (`1.a` vs `1.B` the other way round from Ruby) and JavaScript numbers for digit
 * segments (wrong above 2^53), so this module follows version.rb directly.
 */
import { checkRaw, cmpDigits, cmpStr, invalid, type Ordering, type VersionScheme } from './types.js';

/** Canonical segments: digit strings without leading zeros, or letter strings. */
export type GemVersion = readonly { num: boolean; text: string }[];

// Ruby's \s is [ \t\r\n\f\v]
const GEM_RE =
  /^[ \t\r\n\f\v]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)[ \t\r\n\f\v]*$/;

function dropTrailingZeros(segs: { num: boolean; text: string }[]): { num: boolean; text: string }[] {
  let end = segs.length;
  while (end > 0 && segs[end - 1]!.num && segs[end - 1]!.text === '0') end--;
  return segs.slice(0, end);
}

/** Parses a gem version into its canonical segments; throws ENG_VERSION_INVALID. */
export function parseGem(raw: string): GemVersion {
  checkRaw('gem', raw);
  const m = GEM_RE.exec(raw);
  if (!m) invalid('gem', raw, 'malformed version number string');
  const version = m[1]!.replaceAll('-', '.pre.');
  const segments = (version.match(/[0-9]+|[a-z]+/gi) ?? []).map((s) =>
    /^[0-9]/.test(s) ? { num: true, text: s.replace(/^0+(?=.)/, '') } : { num: false, text: s },
  );
  const firstString = segments.findIndex((s) => !s.num);
  const numeric = firstString < 0 ? segments : segments.slice(0, firstString);
  const rest = firstString < 0 ? [] : segments.slice(firstString);
  return [...dropTrailingZeros(numeric), ...dropTrailingZeros(rest)];
}

const ZERO = { num: true, text: '0' };

/** Orders two gem versions like Gem::Version#<=>. */
export function compareGem(a: GemVersion, b: GemVersion): Ordering {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const l = a[i] ?? ZERO;
    const r = b[i] ?? ZERO;
    if (l.num === r.num && l.text === r.text) continue;
    if (!l.num && r.num) return -1;
    if (l.num && !r.num) return 1;
    return l.num ? cmpDigits(l.text, r.text) : cmpStr(l.text, r.text);
  }
  return 0;
}

export const gem: VersionScheme<GemVersion> = { id: 'gem', parse: parseGem, compare: compareGem };

/**
 * The scheme registry: one VersionScheme per scheme id, an explicit literal map (no
 * self-registration), plus a bounded parse memo so matching many packages against the same
 * advisory versions parses each advisory version once.
 */
import { EngineError, isEngineError } from '../errors.js';
import { apk } from './apk.js';
import { cargo } from './cargo.js';
import { composer } from './composer.js';
import { deb } from './deb.js';
import { gem } from './gem.js';
import { go } from './go.js';
import { maven } from './maven.js';
import { nuget } from './nuget.js';
import { pep440 } from './pep440.js';
import { rpm } from './rpm.js';
import { semver } from './semver.js';
import { SCHEME_IDS, type Ordering, type SchemeId, type VersionScheme } from './types.js';

/** Every scheme, keyed by id. */
export const VERSION_SCHEMES = {
  deb,
  apk,
  rpm,
  semver,
  pep440,
  maven,
  go,
  gem,
  nuget,
  composer,
  cargo,
} as const satisfies { readonly [K in SchemeId]: VersionScheme<unknown> };

/** An opaque parsed version of some scheme. */
export type ParsedVersion = { readonly scheme: SchemeId; readonly value: unknown };

const MEMO_LIMIT = 20_000;
const memo = new Map<string, ParsedVersion | EngineError>();

/** Throws ENG_INVALID_ARGUMENT unless `scheme` is a known scheme id. */
export function assertScheme(scheme: string): asserts scheme is SchemeId {
  if (!(SCHEME_IDS as readonly string[]).includes(scheme)) {
    throw new EngineError(
      'ENG_INVALID_ARGUMENT',
      `unknown version scheme ${JSON.stringify(scheme)}; valid: ${SCHEME_IDS.join(', ')}`,
    );
  }
}

/**
 * Parses `raw` with `scheme` (memoised). Throws ENG_VERSION_INVALID for an invalid version and
 * ENG_INVALID_ARGUMENT for an unknown scheme. Any other exception out of a scheme is a bug and
 * is reported as ENG_VERSION_INVALID with the cause attached, so callers only ever see coded errors.
 */
export function parseVersion(scheme: SchemeId, raw: string): ParsedVersion {
  assertScheme(scheme);
  const key = `${scheme}\u0000${raw}`;
  let hit = memo.get(key);
  if (hit === undefined) {
    try {
      hit = { scheme, value: VERSION_SCHEMES[scheme].parse(raw) };
    } catch (error) {
      hit = isEngineError(error)
        ? error
        : new EngineError(
            'ENG_VERSION_INVALID',
            `invalid ${scheme} version ${JSON.stringify(String(raw).slice(0, 80))}`,
            { cause: error },
          );
    }
    if (memo.size >= MEMO_LIMIT) memo.clear();
    if (typeof raw === 'string') memo.set(key, hit);
  }
  if (hit instanceof Error) throw hit;
  return hit;
}

/** Compares two versions parsed with the same scheme. */
export function compareParsed(a: ParsedVersion, b: ParsedVersion): Ordering {
  const scheme = VERSION_SCHEMES[a.scheme] as VersionScheme<unknown>;
  return scheme.compare(a.value, b.value);
}

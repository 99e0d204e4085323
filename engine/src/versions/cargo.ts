/**
 * Cargo (crates.io) versions: strict Semantic Versioning 2.0.0, as the `semver` crate parses
 * them (https://docs.rs/semver, https://doc.rust-lang.org/cargo/reference/semver.html): exactly
 * three numeric parts, no `v` prefix, no leading zeros. Ordering is SemVer precedence
 * (semver.org §11): build metadata does not order versions, as in Cargo's requirement matching.
 */
import { compareSemVer2, parseSemVer2, type SemVer2 } from './semver2.js';
import { checkRaw, invalid, type VersionScheme } from './types.js';

/** Parses a crate version; throws ENG_VERSION_INVALID. */
export function parseCargo(raw: string): SemVer2 {
  checkRaw('cargo', raw);
  const v = parseSemVer2(raw);
  if (!v) invalid('cargo', raw, 'not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH[-pre][+build])');
  return v;
}

export const cargo: VersionScheme<SemVer2> = { id: 'cargo', parse: parseCargo, compare: compareSemVer2 };

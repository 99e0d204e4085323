/**
 * npm versions: node-semver (https://github.com/npm/node-semver), the implementation npm itself
 * uses, in its strict mode: `MAJOR.MINOR.PATCH[-pre][+build]` with an optional leading `v` and
 * surrounding blanks, numbers up to Number.MAX_SAFE_INTEGER, at most 256 characters.
 * Ordering is SemVer 2.0.0 precedence (https://semver.org/spec/v2.0.0.html#spec-item-11); build
 * metadata does not order versions.
 */
import type * as Semver from 'semver';
import { lazyRequire } from '../lazy-require.js';
import { checkRaw, invalid, sign, type VersionScheme } from './types.js';

/** node-semver loads with the first npm version parsed (matching), not when the engine loads. */
const semverLib = lazyRequire<typeof Semver>('semver');

/** Parses an npm version; throws ENG_VERSION_INVALID. */
export function parseNpm(raw: string): Semver.SemVer {
  checkRaw('semver', raw);
  try {
    return new (semverLib().SemVer)(raw, { loose: false });
  } catch (error) {
    invalid('semver', raw, error instanceof Error ? error.message : 'not a semantic version');
  }
}

export const semver: VersionScheme<Semver.SemVer> = {
  id: 'semver',
  parse: parseNpm,
  compare: (a, b) => sign(a.compare(b)),
};

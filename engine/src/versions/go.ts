/**
 * Go module versions: semantic versions with a `v` prefix, as golang.org/x/mod/semver reads them
 * (https://go.dev/ref/mod#versions). `vMAJOR[.MINOR[.PATCH]]` where the short forms mean `.0`
 * (and take no pre-release or build), SemVer 2.0.0 pre-release and build parts, SemVer precedence.
 *
 * Pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`, `v1.2.4-0.20191109021931-daa7c04131f5`)
 * are pre-releases and order correctly by that rule alone; `+incompatible` is build metadata and
 * is ignored. Two conveniences for advisory data: the `v` is optional (OSV's Go ranges omit it),
 * and Go toolchain names are read as the module `stdlib`'s versions (`go1.21.3` = v1.21.3,
 * `go1.21` = v1.21.0, `go1.21rc2` = v1.21.0-rc.2, `go1.20beta1` = v1.20.0-beta.1).
 */
import { compareSemVer2, type SemVer2 } from './semver2.js';
import { checkRaw, invalid, type VersionScheme } from './types.js';

const NUM = '(0|[1-9][0-9]*)';
const ID = '[0-9A-Za-z-]+';
const GO_RE = new RegExp(
  `^v${NUM}(?:\\.${NUM}(?:\\.${NUM}(?:-(${ID}(?:\\.${ID})*))?(?:\\+(${ID}(?:\\.${ID})*))?)?)?$`,
);
const TOOLCHAIN_RE =
  /^go(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?(?:(rc|beta)(0|[1-9][0-9]*))?$/;
const LEADING_ZERO_NUM = /^0[0-9]+$/;

/** Parses a Go module (or toolchain) version; throws ENG_VERSION_INVALID. */
export function parseGo(raw: string): SemVer2 {
  checkRaw('go', raw);
  const t = TOOLCHAIN_RE.exec(raw);
  if (t) {
    const pre = t[4] === undefined ? [] : [t[4], t[5]!];
    return { major: t[1]!, minor: t[2]!, patch: t[3] ?? '0', prerelease: pre, build: [] };
  }
  const s = raw.startsWith('v') ? raw : `v${raw}`;
  const m = GO_RE.exec(s);
  if (!m) invalid('go', raw, 'not a Go module version (vMAJOR.MINOR.PATCH[-pre][+build])');
  const prerelease = m[4] === undefined ? [] : m[4].split('.');
  // x/mod/semver rejects numeric pre-release identifiers with leading zeros
  if (prerelease.some((id) => LEADING_ZERO_NUM.test(id)))
    invalid('go', raw, 'leading zero in a numeric pre-release identifier');
  return {
    major: m[1]!,
    minor: m[2] ?? '0',
    patch: m[3] ?? '0',
    prerelease,
    build: m[5] === undefined ? [] : m[5].split('.'),
  };
}

export const go: VersionScheme<SemVer2> = { id: 'go', parse: parseGo, compare: compareSemVer2 };

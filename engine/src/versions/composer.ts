/**
 * Composer (Packagist) versions: composer/semver's VersionParser::normalize, then PHP's
 * version_compare on the normalised strings, which is how Composer's constraints compare.
 * Specs: https://getcomposer.org/doc/articles/versions.md and composer/semver src/VersionParser.php,
 * src/Constraint/Constraint.php (versionCompare); PHP's ext/standard/versioning.c.
 *
 * normalize: trims; drops an `as` alias, a `@stability` flag and `+build` metadata; a leading
 * `v`; pads `1.2` to `1.2.0.0`; keeps date versions (`20100102`, `2010-01-02` → `2010.01.02`);
 * expands stability suffixes (a → alpha, b → beta, p/pl → patch, rc → RC, stable dropped) and
 * `-dev`; numeric branches `1.x-dev` become `1.9999999.9999999.9999999-dev`. Named branches
 * (`dev-master`, `master`) normalise to `dev-…`, which Composer never orders against anything,
 * so they are rejected here (ENG_VERSION_INVALID) and the matcher records them as unknown.
 */
import { canonicalPhpForm, phpCompareCanonical } from './php-version-compare.js';
import { checkRaw, invalid, type Ordering, type VersionScheme } from './types.js';

/** A normalised Composer version, e.g. `1.0.0.0-beta2`. */
export interface ComposerVersion {
  normalized: string;
  /** `normalized` in PHP's canonical form (php-version-compare.ts), made once per parse */
  canonical: string;
}

// composer/semver's $modifierRegex: [._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?
const MODIFIER = '[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\\d+)*)?)?([.-]?dev)?';
const CLASSICAL_RE = new RegExp(`^v?(\\d{1,5})(\\.\\d+)?(\\.\\d+)?(\\.\\d+)?${MODIFIER}$`, 'i');
const DATE_RE = new RegExp(`^v?(\\d{4}(?:[.:-]?\\d{2}){1,6}(?:[.:-]?\\d{1,3}){0,2})${MODIFIER}$`, 'i');
const ALIAS_RE = /^([^,\s]+) +as +([^,\s]+)$/;
const STABILITY_FLAG_RE = /@(?:stable|RC|beta|alpha|dev)$/i;
const BUILD_RE = /^([^,\s+]+)\+[^\s]+$/;
const BRANCH_RE = /^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$/i;

function expandStability(s: string): string {
  switch (s.toLowerCase()) {
    case 'a':
      return 'alpha';
    case 'b':
      return 'beta';
    case 'p':
    case 'pl':
      return 'patch';
    case 'rc':
      return 'RC';
    default:
      return s.toLowerCase();
  }
}

/** VersionParser::normalizeBranch for the numeric branch forms, or undefined for a named branch. */
function normalizeBranch(name: string): string | undefined {
  const m = BRANCH_RE.exec(name.trim());
  if (!m) return undefined;
  let version = '';
  for (let i = 1; i < 5; i++) version += m[i] !== undefined ? m[i]!.replace(/[*X]/g, 'x') : '.x';
  return `${version.replaceAll('x', '9999999')}-dev`;
}

/** VersionParser::normalize; returns undefined where Composer throws, throws on named branches. */
export function normalizeComposer(raw: string): string | undefined {
  let version = raw.trim();
  const alias = ALIAS_RE.exec(version);
  if (alias) version = alias[1]!;
  const flag = STABILITY_FLAG_RE.exec(version);
  if (flag) version = version.slice(0, version.length - flag[0].length);
  if (version === 'master' || version === 'trunk' || version === 'default') version = `dev-${version}`;
  if (version.toLowerCase().startsWith('dev-')) return `dev-${version.slice(4)}`;
  const build = BUILD_RE.exec(version);
  if (build) version = build[1]!;

  let m = CLASSICAL_RE.exec(version);
  let index: number;
  if (m) {
    version = m[1]! + (m[2] || '.0') + (m[3] || '.0') + (m[4] || '.0');
    index = 5;
  } else {
    m = DATE_RE.exec(version);
    if (!m) {
      const dev = /^(.*?)[.-]?dev$/i.exec(version);
      if (dev) {
        const branch = normalizeBranch(dev[1]!);
        if (branch !== undefined) return branch;
      }
      return undefined;
    }
    version = m[1]!.replace(/\D/g, '.');
    index = 2;
  }
  const stability = m[index];
  if (stability) {
    if (stability === 'stable') return version;
    const number = m[index + 1];
    version += `-${expandStability(stability)}${number ? number.replace(/^[.-]+/, '') : ''}`;
  }
  if (m[index + 2]) version += '-dev';
  return version;
}

/** Parses and normalises a Composer version; throws ENG_VERSION_INVALID. */
export function parseComposer(raw: string): ComposerVersion {
  checkRaw('composer', raw);
  const normalized = normalizeComposer(raw);
  if (normalized === undefined) invalid('composer', raw, 'not a version Composer can normalise');
  if (normalized.startsWith('dev-')) invalid('composer', raw, 'a branch name, which Composer does not order');
  return { normalized, canonical: canonicalPhpForm(normalized) };
}

/** Orders two normalised Composer versions with PHP's version_compare (on their canonical forms). */
export function compareComposer(a: ComposerVersion, b: ComposerVersion): Ordering {
  return phpCompareCanonical(a.canonical, b.canonical);
}

export const composer: VersionScheme<ComposerVersion> = {
  id: 'composer',
  parse: parseComposer,
  compare: compareComposer,
};

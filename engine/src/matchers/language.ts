/**
 * `lang/<ecosystem>`: language packages against GHSA / OSV ranges of their ecosystem, namespace =
 * the package-url type (feeds/osv/ecosystems.ts), compared with the ecosystem's scheme (schemeFor,
 * the one table in versions/index.ts). Withdrawn advisories are already gone from the database.
 *
 * Names are queried as the feeds store them (https://ossf.github.io/osv-schema/#affectedpackage-field):
 * - pypi: PEP 503 normalised (`Foo_Bar.baz` → `foo-bar-baz`), as the feeds normalise;
 * - golang: module path; the toolchain is module `stdlib` (OSV's Go data, whose versions carry no
 *   `v`: the go scheme reads both `v1.22.1` and `1.22.1`);
 * - maven: `groupId:artifactId`; composer: `vendor/name` (a leading `v` in versions is the
 *   composer scheme's business); npm, gem, cargo, nuget: the name as published.
 * Rows from another package repository than the ecosystem's default (OSV `Maven:https://…`,
 * kept as `extra.repository`) are not for packages from the default registry and are skipped.
 */
import { normalizePypiName } from '../feeds/osv/ecosystems.js';
import type { Ecosystem } from '../model/package.js';
import { schemeFor } from '../versions/index.js';
import { decideRow } from './decide.js';
import { CLEAR, type Matcher } from './types.js';

interface LanguageSpec {
  ecosystem: Ecosystem;
  /** the name as the feeds store it */
  normalize?: (name: string) => string;
}

/** Builds the matcher of one language ecosystem. */
export function languageMatcher(spec: LanguageSpec): Matcher {
  const normalize = spec.normalize ?? ((n: string) => n);
  const scheme = schemeFor(spec.ecosystem);
  if (!scheme) throw new Error(`no version scheme for ${spec.ecosystem}`); // a programming error, at load
  return {
    name: `lang/${spec.ecosystem}`,
    version: 1,
    filter: (pkg) => pkg.ecosystem === spec.ecosystem,
    query: (pkg) => (pkg.name ? [{ namespace: spec.ecosystem, packageName: normalize(pkg.name) }] : []),
    vulnerable: (pkg, row, env) =>
      row.extra?.repository !== undefined ? CLEAR : decideRow(pkg.version, row, scheme, env.versions),
    installed: (pkg) => ({ scheme, versions: [pkg.version] }),
  };
}

export const npmMatcher = languageMatcher({ ecosystem: 'npm' });
export const pypiMatcher = languageMatcher({ ecosystem: 'pypi', normalize: normalizePypiName });
export const golangMatcher = languageMatcher({ ecosystem: 'golang' });
export const mavenMatcher = languageMatcher({ ecosystem: 'maven' });
export const gemMatcher = languageMatcher({ ecosystem: 'gem' });
export const cargoMatcher = languageMatcher({ ecosystem: 'cargo' });
export const composerMatcher = languageMatcher({ ecosystem: 'composer' });
export const nugetMatcher = languageMatcher({ ecosystem: 'nuget' });

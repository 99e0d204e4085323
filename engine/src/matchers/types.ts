/**
 * Matcher plugin shape (STYLE §2.3; claircore driver.Matcher + grype match.Matcher): a matcher
 * claims packages (`filter`), declares the advisory lookup keys of each (`query`) — the core turns
 * every key of every package into ONE batched `AdvisoryReader.affected` call per scan — and decides
 * each advisory row against the installed version (`vulnerable`). Matchers never touch storage.
 */
import type { OsRelease } from '../model/os.js';
import type { Package } from '../model/package.js';
import type { AffectedPackage, FixState, Namespace } from '../model/vulnerability.js';
import type { SchemeId } from '../versions/types.js';
import type { ParsedVersions } from './decide.js';

/** One advisory lookup: rows of `packageName` in `namespace`. */
export interface LookupKey {
  namespace: Namespace;
  packageName: string;
}

/** The distro release the OS packages are matched against, resolved once per scan (os-target.ts). */
export interface DistroTarget {
  /** os-release family as detected (`alpine`, `centos`, `ubuntu`…) */
  family: string;
  /** the release as the trackers name it (`3.10`, `12`, `22.04`, `9`, `2023`; `` for rolling distros) */
  release: string;
  /** namespaces queried, in preference order (`alpine:3.10`; `rhel:8` for centos 8) */
  namespaces: Namespace[];
  /** version scheme of the distro's packages */
  scheme: SchemeId;
  /** the feed whose ratings count as the vendor's (`alpine`, `debian`, `redhat`…), for the severity policy */
  vendorSource: string;
  /** feeds that can hold data for these namespaces (to tell "no data" from "not affected") */
  feeds: string[];
}

/** What a matcher sees besides the package. */
export interface MatchEnv {
  os?: OsRelease;
  /** set when the OS is one Vigil matches */
  distro?: DistroTarget;
  /** the scan's parsed-version cache (decideRow's fourth argument) */
  versions?: ParsedVersions;
}

/** A matcher's decision on one advisory row for one package. */
export type RowVerdict =
  /** the installed version is affected: status and the version that leaves every affected range */
  | {
      kind: 'affected';
      status: Exclude<FixState, 'not-affected'>;
      fixedVersion: string | null;
      scheme: SchemeId;
    }
  /** the row applies to this package and says it is not affected: suppresses the vulnerability */
  | { kind: 'not-affected' }
  /** the installed version is outside the row's ranges, or the row is for another variant (module) */
  | { kind: 'clear' }
  /** could not decide: an installed or advisory version does not parse */
  | { kind: 'unknown'; reason: string; installedInvalid: boolean };

/** The shared `clear` verdict (immutable; matchers return it rather than allocating one per row). */
export const CLEAR: Readonly<Extract<RowVerdict, { kind: 'clear' }>> = Object.freeze({ kind: 'clear' });

export interface Matcher {
  /** unique, path-like: `os/apk`, `lang/npm` */
  readonly name: string;
  /** integer, bumped when decisions change for the same input */
  readonly version: number;
  /** is this package mine (package type, distro family)? */
  filter(pkg: Package, env: MatchEnv): boolean;
  /** the lookup keys of a package this matcher claimed (may be empty) */
  query(pkg: Package, env: MatchEnv): LookupKey[];
  /** decides one row returned for one of the package's keys */
  vulnerable(pkg: Package, affected: AffectedPackage, env: MatchEnv): RowVerdict;
  /**
   * Optional: the versions `vulnerable` compares rows against and their scheme, for a matcher
   * whose every verdict is CLEAR or decideRow(one of these versions, row, scheme). The core then
   * skips the rows of a key whose clear-above version is below all of them (vulndb/clear-above.ts:
   * every such row is clear for them); undefined: never skipped.
   */
  installed?(pkg: Package, env: MatchEnv): { scheme: SchemeId; versions: readonly string[] } | undefined;
}

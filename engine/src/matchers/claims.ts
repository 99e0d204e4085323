/**
 * Steps 1-3 of matching (match.ts): each package goes to the first matcher whose `filter` claims
 * it; the lookup keys of every claimed package are looked up in ONE batched reader call
 * (`affectedEach`); each row of a package's keys is decided by its matcher.
 *
 * Built for inventories of 100,000 packages, most of which no feed mentions: claims are kept in
 * flat arrays (no object per package) over one list of every claim's keys; rows are decided as
 * each key's rows arrive and only the rows that apply are kept (nothing else outlives its key, so
 * the garbage collector never copies it). Only packages with applicable rows get an object
 * (ClaimHits). Hits, warnings and their order are those of deciding package by package, key by
 * key, row by row.
 */
import type { MatchWarning } from '../model/finding.js';
import type { Package } from '../model/package.js';
import type { AdvisoryReader } from '../vulndb/types.js';
import type { SchemeId } from '../versions/types.js';
import { compareParsed } from '../versions/registry.js';
import { ParsedVersions } from './decide.js';
import { hitOf, type Hit } from './group.js';
import type { LookupKey, Matcher, MatchEnv } from './types.js';

/** A package with rows that apply to it. */
export interface ClaimHits {
  pkg: Package;
  /** rows that apply (affected / not-affected), by vulnId */
  hits: Map<string, Hit[]>;
  /** the scheme of its first affected verdict (the fix plan compares with it) */
  scheme?: SchemeId;
}

export interface Decisions {
  /** packages with applicable rows, in inventory order */
  claims: ClaimHits[];
  /** namespaces the lookup returned rows for */
  namespacesWithRows: Set<string>;
  /** inventory entries without a usable name or version */
  malformed: number;
  /** VIGIL_VERSION_INVALID per package and VIGIL_ADVISORY_INVALID, in that order */
  warnings: MatchWarning[];
}

const isText = (v: unknown): v is string => typeof v === 'string';

/** True when keys[from..] already holds `k`. */
function isListed(keys: readonly LookupKey[], from: number, k: LookupKey): boolean {
  for (let i = from; i < keys.length; i++)
    if (keys[i]!.namespace === k.namespace && keys[i]!.packageName === k.packageName) return true;
  return false;
}

/** A package the matchers can read: string name, version and ecosystem, string-or-absent source fields. */
function isUsable(pkg: Package): boolean {
  return (
    !!pkg &&
    isText(pkg.name) &&
    pkg.name !== '' &&
    isText(pkg.version) &&
    isText(pkg.ecosystem) &&
    (pkg.srcName === undefined || isText(pkg.srcName)) &&
    (pkg.srcVersion === undefined || isText(pkg.srcVersion))
  );
}

/**
 * Claims, looks up and decides.
 * @throws only what the reader throws
 */
export function claimAndDecide(
  packages: readonly Package[],
  matchers: readonly Matcher[],
  env: MatchEnv,
  reader: AdvisoryReader,
): Decisions {
  // 1: claims, as flat arrays over one list of every claim's keys (a key several packages share
  // is read for each: cheaper than keeping its rows until the last of them)
  const pkgs: Package[] = [];
  const owners: Matcher[] = [];
  const lookups: LookupKey[] = [];
  /** the claim of each key */
  const keyClaim: number[] = [];
  let malformed = 0;
  // indexed loops: this runs once per scan over every package and row, before the optimising
  // compiler has taken over (for-of would allocate an iterator result per element meanwhile)
  for (let p = 0; p < packages.length; p++) {
    const pkg = packages[p]!;
    if (!isUsable(pkg)) {
      malformed++;
      continue;
    }
    let matcher: Matcher | undefined;
    for (let m = 0; m < matchers.length; m++)
      if (matchers[m]!.filter(pkg, env)) {
        matcher = matchers[m];
        break;
      }
    if (!matcher) continue;
    const start = lookups.length;
    const keys = matcher.query(pkg, env);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      // a key a matcher listed twice is decided once
      if (lookups.length > start && isListed(lookups, start, k)) continue;
      lookups.push(k);
      keyClaim.push(pkgs.length);
    }
    pkgs.push(pkg);
    owners.push(matcher);
  }

  // 2-3: one lookup, streamed: each key's rows are decided for its claim as they are read, so the
  // rows that apply to no package are garbage at once. Keys come in claim order, so hits and
  // warnings come in the order of deciding package by package, key by key, row by row.
  const namespacesWithRows = new Set<string>();
  const claims: ClaimHits[] = [];
  const warnings: MatchWarning[] = [];
  const invalid = { advisories: 0, first: '' };
  let current = -1;
  let hits: Map<string, Hit[]> | undefined;
  let scheme: SchemeId | undefined;
  let installedInvalid: string | undefined;
  const close = () => {
    if (current < 0) return;
    const pkg = pkgs[current]!;
    if (installedInvalid)
      warnings.push({
        code: 'VIGIL_VERSION_INVALID',
        message: `${pkg.ecosystem} package ${pkg.name} ${JSON.stringify(pkg.version)}${pkg.path ? ` (${pkg.path})` : ''} was not matched: ${installedInvalid}`,
      });
    if (hits) claims.push(scheme ? { pkg, hits, scheme } : { pkg, hits });
    hits = scheme = installedInvalid = undefined;
  };
  // a key whose rows with ranges are all clear for the package (their clear-above version below the
  // package's versions) has them not even decoded: only its open rows (every version) come
  const versions = env.versions ?? new ParsedVersions();
  const skip = (j: number, scheme: SchemeId, version: string): boolean => {
    const c = keyClaim[j]!;
    const installed = owners[c]!.installed?.(pkgs[c]!, env);
    if (!installed || installed.scheme !== scheme || installed.versions.length === 0) return false;
    const bound = versions.get(scheme, version);
    if (!bound) return false;
    for (const raw of installed.versions) {
      const v = versions.installed(scheme, raw);
      if (!v || compareParsed(v, bound) <= 0) return false;
    }
    namespacesWithRows.add(lookups[j]!.namespace);
    return true;
  };
  reader.affectedEach(
    lookups,
    (j, rows) => {
      namespacesWithRows.add(lookups[j]!.namespace);
      const c = keyClaim[j]!;
      if (c !== current) {
        close();
        current = c;
      }
      const pkg = pkgs[c]!;
      const matcher = owners[c]!;
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        const verdict = matcher.vulnerable(pkg, row, env);
        if (verdict.kind === 'clear') continue;
        if (verdict.kind === 'unknown') {
          if (verdict.installedInvalid) installedInvalid ??= verdict.reason;
          else if (invalid.advisories++ === 0)
            invalid.first = `${row.vulnId} (${row.source ?? '?'} ${row.namespace}/${row.packageName}): ${verdict.reason}`;
          continue;
        }
        if (verdict.kind === 'affected') scheme ??= verdict.scheme;
        hits ??= new Map();
        const hit = hitOf(row, verdict);
        const same = hits.get(row.vulnId);
        if (same) same.push(hit);
        else hits.set(row.vulnId, [hit]);
      }
    },
    skip,
  );
  close();
  if (invalid.advisories)
    warnings.push({
      code: 'VIGIL_ADVISORY_INVALID',
      message: `${invalid.advisories} advisory rows could not be evaluated and were skipped; first: ${invalid.first}`,
    });
  return { claims, namespacesWithRows, malformed, warnings };
}

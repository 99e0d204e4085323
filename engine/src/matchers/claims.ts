/**
 * Steps 1-3 of matching (match.ts): each package goes to the first matcher whose `filter` claims
 * it; the lookup keys of every claimed package are deduplicated across the scan and looked up in
 * ONE batched reader call (`affectedEach`); each row of a package's keys is decided by its matcher.
 *
 * Built for inventories of 100,000 packages, most of which no feed mentions: claims are kept in
 * flat arrays (no object per package), keys as indexes into the deduplicated lookup list; rows are
 * decided as each key's rows arrive and only the rows that apply are kept. Only packages with
 * applicable rows get an object (ClaimHits). Hits, warnings and their order are those of deciding
 * package by package, key by key, row by row.
 */
import type { MatchWarning } from '../model/finding.js';
import type { Package } from '../model/package.js';
import type { AffectedPackage } from '../model/vulnerability.js';
import type { AdvisoryReader } from '../vulndb/types.js';
import type { SchemeId } from '../versions/types.js';
import type { Hit } from './group.js';
import type { LookupKey, Matcher, MatchEnv, RowVerdict } from './types.js';

type Unknown = Extract<RowVerdict, { kind: 'unknown' }>;

/** namespace → package name → value: keys without building a joined string per package and row. */
class KeyMap<T> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  get(k: LookupKey): T | undefined {
    return this.byNamespace.get(k.namespace)?.get(k.packageName);
  }
  set(k: LookupKey, value: T): void {
    let inner = this.byNamespace.get(k.namespace);
    if (!inner) this.byNamespace.set(k.namespace, (inner = new Map()));
    inner.set(k.packageName, value);
  }
}

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
  // 1: claims, as flat arrays; claim c's keys are keyIdx[keyStart[c] .. keyStart[c + 1])
  const pkgs: Package[] = [];
  const owners: Matcher[] = [];
  const keyStart: number[] = [0];
  const keyIdx: number[] = [];
  /** the claim of each key position */
  const keyClaim: number[] = [];
  const index = new KeyMap<number>();
  const lookups: LookupKey[] = [];
  let malformed = 0;
  for (const pkg of packages) {
    if (!isUsable(pkg)) {
      malformed++;
      continue;
    }
    let matcher: Matcher | undefined;
    for (const m of matchers)
      if (m.filter(pkg, env)) {
        matcher = m;
        break;
      }
    if (!matcher) continue;
    const start = keyIdx.length;
    for (const k of matcher.query(pkg, env)) {
      let i = index.get(k);
      if (i === undefined) {
        index.set(k, (i = lookups.length));
        lookups.push(k);
      }
      // a key a matcher listed twice is decided once
      if (!keyIdx.includes(i, start)) {
        keyIdx.push(i);
        keyClaim.push(pkgs.length);
      }
    }
    pkgs.push(pkg);
    owners.push(matcher);
    keyStart.push(keyIdx.length);
  }

  // 2-3: one lookup, streamed: each key's rows are decided for every claim that asked for it as
  // they are read, so the rows that apply to no package are garbage at once. Per key position j
  // (claim keyClaim[j]): its hits and its undecidable rows, assembled in claim order below.
  const firstAt = new Int32Array(lookups.length).fill(-1);
  const nextAt = new Int32Array(keyIdx.length).fill(-1);
  for (let j = keyIdx.length - 1; j >= 0; j--) {
    nextAt[j] = firstAt[keyIdx[j]!]!;
    firstAt[keyIdx[j]!] = j;
  }
  const hitsAt = new Map<number, Hit[]>();
  const unknownAt = new Map<number, { row: AffectedPackage; verdict: Unknown }[]>();
  const namespacesWithRows = new Set<string>();
  reader.affectedEach(lookups, (i, rows) => {
    namespacesWithRows.add(lookups[i]!.namespace);
    for (let j = firstAt[i]!; j !== -1; j = nextAt[j]!) {
      const c = keyClaim[j]!;
      const pkg = pkgs[c]!;
      const matcher = owners[c]!;
      let hits: Hit[] | undefined;
      for (const row of rows) {
        const verdict = matcher.vulnerable(pkg, row, env);
        if (verdict.kind === 'clear') continue;
        if (verdict.kind === 'unknown') {
          let list = unknownAt.get(j);
          if (!list) unknownAt.set(j, (list = []));
          list.push({ row, verdict });
          continue;
        }
        (hits ??= []).push({ row, verdict });
      }
      if (hits) hitsAt.set(j, hits);
    }
  });

  // per claim, in inventory order: its hits by vulnId and warnings, keys and rows in their order
  const claims: ClaimHits[] = [];
  const warnings: MatchWarning[] = [];
  const invalid = { advisories: 0, first: '' };
  for (let c = 0; c < pkgs.length; c++) {
    const pkg = pkgs[c]!;
    let installedInvalid: string | undefined;
    let hits: Map<string, Hit[]> | undefined;
    let scheme: SchemeId | undefined;
    for (let j = keyStart[c]!; j < keyStart[c + 1]!; j++) {
      for (const { row, verdict } of unknownAt.get(j) ?? []) {
        if (verdict.installedInvalid) installedInvalid ??= verdict.reason;
        else if (invalid.advisories++ === 0)
          invalid.first = `${row.vulnId} (${row.source ?? '?'} ${row.namespace}/${row.packageName}): ${verdict.reason}`;
      }
      for (const hit of hitsAt.get(j) ?? []) {
        if (hit.verdict.kind === 'affected') scheme ??= hit.verdict.scheme;
        hits ??= new Map();
        const same = hits.get(hit.row.vulnId);
        if (same) same.push(hit);
        else hits.set(hit.row.vulnId, [hit]);
      }
    }
    if (installedInvalid)
      warnings.push({
        code: 'VIGIL_VERSION_INVALID',
        message: `${pkg.ecosystem} package ${pkg.name} ${JSON.stringify(pkg.version)}${pkg.path ? ` (${pkg.path})` : ''} was not matched: ${installedInvalid}`,
      });
    if (hits) claims.push(scheme ? { pkg, hits, scheme } : { pkg, hits });
  }
  if (invalid.advisories)
    warnings.push({
      code: 'VIGIL_ADVISORY_INVALID',
      message: `${invalid.advisories} advisory rows could not be evaluated and were skipped; first: ${invalid.first}`,
    });
  return { claims, namespacesWithRows, malformed, warnings };
}

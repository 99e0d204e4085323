/**
 * One finding per vulnerability per package: the rows a package matched are grouped by the
 * vulnerability they describe, whatever the source called it.
 *
 * - Ids linked by any source's aliases (GHSA ↔ CVE, PYSEC → GHSA, UBUNTU-CVE-x → CVE-x) are one
 *   vulnerability: the rows of a package are joined over their ids and the ids' aliases.
 * - Errata (a distro's fix advisory: ALSA/RLSA/RHSA/ALAS/DSA/DLA/USN/ELSA…) are not a
 *   vulnerability but a fix of several: a row under an erratum id whose record names CVEs in
 *   `related` counts for each of those CVEs (the erratum id stays in the finding's dataSources).
 * - A group where any applicable row says not-affected is suppressed (a distro's "not affected"
 *   overrides a generic match); a group with only clear / undecidable rows is no finding.
 * - The reported id is a CVE when the group has one (one named by a row first), else a GHSA,
 *   else the lowest id.
 */
import type { AffectedPackage } from '../model/vulnerability.js';
import type { RowVerdict } from './types.js';

/**
 * One row a package matched, with its verdict: of the row only what findings use is kept (the
 * rest of it, ranges and all, is garbage as soon as it is decided).
 */
export interface Hit {
  row: Pick<AffectedPackage, 'vulnId' | 'source' | 'namespace' | 'severity'>;
  verdict: Extract<RowVerdict, { kind: 'affected' } | { kind: 'not-affected' }>;
}

/** The hit of a row and its verdict. */
export const hitOf = (row: AffectedPackage, verdict: Hit['verdict']): Hit => ({
  row: { vulnId: row.vulnId, source: row.source, namespace: row.namespace, severity: row.severity },
  verdict,
});

/** One vulnerability of one package. */
export interface HitGroup {
  id: string;
  aliases: string[];
  /** the ids whose records are read for it: the reported id, the ids rows named, errata ids */
  recordIds: string[];
  /** the affected hits (not-affected groups are never returned) */
  hits: (Hit & { verdict: Extract<RowVerdict, { kind: 'affected' }> })[];
}

/** Ids linked to an id (a Map, or a view of the scan's vulnerability summaries). */
export interface AliasLookup {
  get(id: string): readonly string[] | undefined;
}

const ERRATUM = /^(?:ALSA|ALBA|ALEA|RLSA|RLBA|RLEA|RXSA|RHSA|RHBA|RHEA|ALAS[0-9A-Z]*|DSA|DLA|USN|ELSA)-/;
const CVE = /^CVE-\d{4}-\d+$/;

/** True for ids of distro fix advisories (errata), whose `related` CVEs are what they fix. */
export const isErratumId = (id: string): boolean => ERRATUM.test(id);

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x);
    if (p === undefined) {
      this.parent.set(x, x);
      return x;
    }
    while (p !== x) {
      const grand: string = this.parent.get(p)!;
      this.parent.set(x, grand);
      x = p;
      p = grand;
    }
    return x;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
}

const byIdPreference = (a: string, b: string) => {
  const rank = (id: string) => (CVE.test(id) ? 0 : id.startsWith('GHSA-') ? 1 : 2);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
};

/**
 * `list` without `drop`, plus `add`, as a new sorted array (no sort when already in order, as the
 * reader's alias lists are). Allocated at its exact length: findings keep these lists, and an
 * array grown by push holds 16 slots or more (a 100k-package scan keeps tens of thousands).
 */
function sortedList(list: readonly string[], drop?: string, add?: string): string[] {
  let n = add === undefined ? 0 : 1;
  for (let i = 0; i < list.length; i++) if (list[i] !== drop) n++;
  const out = new Array<string>(n);
  let k = 0;
  for (let i = 0; i < list.length; i++) if (list[i] !== drop) out[k++] = list[i]!;
  if (add !== undefined) out[k] = add;
  for (let i = 1; i < out.length; i++) if (out[i - 1]! > out[i]!) return out.sort();
  return out;
}

interface Owners {
  byMember: Map<string, string> | undefined;
  members: string[];
  owners: string[];
}

/** Records `id` as the owner of `x`; false when another id owns it already. */
function own(o: Owners, x: string, id: string): boolean {
  if (o.byMember) {
    const owner = o.byMember.get(x);
    if (owner === undefined) o.byMember.set(x, id);
    return owner === undefined || owner === id;
  }
  const i = o.members.indexOf(x);
  if (i >= 0) return o.owners[i] === id;
  o.members.push(x);
  o.owners.push(id);
  return true;
}

function isDisjoint(
  hitsById: ReadonlyMap<string, Hit[]>,
  aliasesOf: AliasLookup,
  erratumCves: ReadonlyMap<string, readonly string[]>,
): boolean {
  if (hitsById.size === 1) return !erratumCves.has(hitsById.keys().next().value as string);
  // each id and alias may belong to one hit id only; most packages have a handful, for which two
  // parallel lists beat a Map per package (kernels have thousands: a Map then)
  const owners: Owners = {
    byMember: hitsById.size > 16 ? new Map() : undefined,
    members: [],
    owners: [],
  };
  for (const id of hitsById.keys()) {
    if (erratumCves.has(id) || !own(owners, id, id)) return false;
    for (const x of aliasesOf.get(id) ?? []) if (!own(owners, x, id)) return false;
  }
  return true;
}

/**
 * Groups one package's hits.
 * @param hitsById the package's applicable rows (affected / not-affected) by row vulnId
 * @param aliasesOf ids linked to an id (the summaries' aliases, read in one batch per scan)
 * @param erratumCves the CVEs each erratum id fixes (its records' `related`)
 */
export function groupHits(
  hitsById: ReadonlyMap<string, Hit[]>,
  aliasesOf: AliasLookup,
  erratumCves: ReadonlyMap<string, readonly string[]>,
): HitGroup[] {
  // the common case: no errata, and no id shared between the hits' alias sets (distinct
  // vulnerabilities): every hit id is its own group, no joining needed
  if (isDisjoint(hitsById, aliasesOf, erratumCves)) {
    const out: HitGroup[] = [];
    hitsById.forEach((hits, hitId) => {
      // only affected hits (a not-affected one suppresses the vulnerability)
      if (!hits.every((h) => h.verdict.kind === 'affected') || hits.length === 0) return;
      const linked = aliasesOf.get(hitId) ?? [];
      let id = hitId;
      if (!CVE.test(hitId)) for (const x of linked) if (byIdPreference(x, id) < 0) id = x;
      const aliases = id === hitId ? sortedList(linked) : sortedList(linked, id, hitId);
      out.push({
        id,
        aliases,
        recordIds: id === hitId ? [id] : [id, hitId],
        hits: hits as HitGroup['hits'],
      });
    });
    return out;
  }
  const uf = new UnionFind();
  const named = new Map<string, string[]>(); // hit vulnId → the ids it stands for
  for (const id of hitsById.keys()) {
    const cves = erratumCves.get(id);
    const ids = cves?.length ? [...cves] : [id];
    named.set(id, ids);
    for (const x of ids) {
      uf.find(x);
      for (const alias of aliasesOf.get(x) ?? []) uf.union(x, alias);
    }
  }
  const groups = new Map<
    string,
    { members: Set<string>; direct: Set<string>; errata: Set<string>; hits: Hit[] }
  >();
  const groupOf = (x: string) => {
    const root = uf.find(x);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = { members: new Set(), direct: new Set(), errata: new Set(), hits: [] }));
    return g;
  };
  for (const [id, hits] of hitsById) {
    for (const x of named.get(id)!) {
      const g = groupOf(x);
      g.direct.add(x);
      g.members.add(x);
      for (const alias of aliasesOf.get(x) ?? []) g.members.add(alias);
      if (x !== id) g.errata.add(id);
      g.hits.push(...hits);
    }
  }
  const out: HitGroup[] = [];
  for (const g of groups.values()) {
    if (g.hits.some((h) => h.verdict.kind === 'not-affected')) continue;
    const affected = g.hits.filter((h): h is HitGroup['hits'][number] => h.verdict.kind === 'affected');
    if (affected.length === 0) continue;
    for (const e of g.errata) g.members.delete(e);
    const direct = [...g.direct].filter((x) => !g.errata.has(x));
    const cve = direct.filter((x) => CVE.test(x)).sort(byIdPreference)[0];
    const id = cve ?? [...g.members].sort(byIdPreference)[0]!;
    const aliases = [...g.members].filter((x) => x !== id).sort();
    out.push({
      id,
      aliases,
      recordIds: [...new Set([id, ...direct.sort(), ...[...g.errata].sort()])],
      hits: [...new Set(affected)],
    });
  }
  return out;
}

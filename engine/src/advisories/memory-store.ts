/**
 * The tables of MemoryAdvisoryReader and the record application rules (the in-memory twin of
 * vulndb/apply-records.ts; see memory-reader.ts for the semantics).
 */
import type { FeedRecord } from '../feeds/types.js';
import type { AffectedPackage, Vulnerability } from '../model/vulnerability.js';
import { cmpCodePoints } from '../vulndb/code-points.js';

/** One affected row as stored: key columns plus the JSON of the other fields. */
export interface StoredRow {
  vulnId: string;
  source: string;
  namespace: string;
  packageName: string;
  json: string;
}

/** One application in progress (one `addRecords` call). */
export interface Application {
  source: string;
  cleared: boolean;
  seen: Set<string>;
  counts: { malformed: number; withdrawn: number };
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isScore = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const keyOf = (namespace: string, pkg: string) => `${namespace}\u0000${pkg}`;

function affectedJson(a: AffectedPackage): string {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { vulnId, source, namespace, packageName, ...rest } = a;
  return JSON.stringify(rest);
}

export class MemoryStore {
  /** id → source → vulnerability JSON */
  readonly vulns = new Map<string, Map<string, string>>();
  /** namespace\0package → rows */
  private readonly rows = new Map<string, StoredRow[]>();
  /** source\0id → the row keys holding its rows */
  private readonly rowKeys = new Map<string, Set<string>>();
  /** (alias, id, source) triples, indexed both ways */
  private readonly aliasById = new Map<string, Map<string, Set<string>>>();
  private readonly idByAlias = new Map<string, Map<string, Set<string>>>();
  private readonly kevs = new Map<string, { source: string; json: string }>();
  private readonly epsss = new Map<
    string,
    { source: string; cveId: string; score: number; percentile: number; date: string }
  >();

  application(source: string, cleared: boolean): Application {
    return { source, cleared, seen: new Set(), counts: { malformed: 0, withdrawn: 0 } };
  }

  rowsOf(key: string): readonly StoredRow[] | undefined {
    return this.rows.get(key);
  }

  aliasesOf(id: string): Iterable<string> {
    return this.aliasById.get(id)?.keys() ?? [];
  }

  idsAliasing(alias: string): Iterable<string> {
    return this.idByAlias.get(alias)?.keys() ?? [];
  }

  kevOf(cve: string): string | undefined {
    return this.kevs.get(cve)?.json;
  }

  epssOf(cve: string) {
    const e = this.epsss.get(cve);
    return e && { cveId: e.cveId, score: e.score, percentile: e.percentile, date: e.date };
  }

  apply(app: Application, record: FeedRecord): void {
    switch (record?.type) {
      case 'vulnerability':
        return this.vulnerability(app, record.vulnerability, record.affected);
      case 'withdrawn':
        if (!isText(record.id)) return void app.counts.malformed++;
        this.remove(app.source, record.id);
        app.seen.delete(record.id);
        app.counts.withdrawn++;
        return;
      case 'kev': {
        const e = record.entry;
        if (!isText(e?.cveId) || !isText(e.dateAdded)) return void app.counts.malformed++;
        this.kevs.set(e.cveId, { source: app.source, json: JSON.stringify(e) });
        return;
      }
      case 'epss': {
        const e = record.entry;
        if (!isText(e?.cveId) || !isScore(e.score) || !isScore(e.percentile) || typeof e.date !== 'string')
          return void app.counts.malformed++;
        this.epsss.set(e.cveId, { source: app.source, ...e });
        return;
      }
      default:
        app.counts.malformed++;
    }
  }

  clearSource(source: string): void {
    const ids = [...this.vulns].filter(([, bySource]) => bySource.has(source)).map(([id]) => id);
    for (const key of this.rowKeys.keys())
      if (key.startsWith(`${source}\u0000`)) ids.push(key.slice(source.length + 1));
    for (const id of new Set(ids)) this.remove(source, id);
    for (const [cve, e] of this.kevs) if (e.source === source) this.kevs.delete(cve);
    for (const [cve, e] of this.epsss) if (e.source === source) this.epsss.delete(cve);
  }

  /** Row counts of a source, like the snapshot's per-source totals. */
  totals(source: string): { vulnerabilities: number; affected: number; kev: number; epss: number } {
    let vulnerabilities = 0;
    for (const bySource of this.vulns.values()) if (bySource.has(source)) vulnerabilities++;
    let affected = 0;
    for (const rows of this.rows.values()) for (const r of rows) if (r.source === source) affected++;
    const count = (m: Map<string, { source: string }>) =>
      [...m.values()].filter((e) => e.source === source).length;
    return { vulnerabilities, affected, kev: count(this.kevs), epss: count(this.epsss) };
  }

  /** A source's rows as JSON lines (tag, key columns, JSON), sorted: the input of the content hash. */
  contentLines(source: string): string[] {
    const byCp = (a: unknown[], b: unknown[]) => {
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        const y = b[i];
        const c =
          typeof x === 'string' && typeof y === 'string' ? cmpCodePoints(x, y) : Number(x) - Number(y);
        if (c) return c;
      }
      return 0;
    };
    const v: unknown[][] = [];
    for (const [id, bySource] of this.vulns) {
      const json = bySource.get(source);
      if (json !== undefined) v.push(['v', id, json]);
    }
    const a: unknown[][] = [];
    for (const rows of this.rows.values())
      for (const r of rows)
        if (r.source === source) a.push(['a', r.vulnId, r.namespace, r.packageName, r.json]);
    const k: unknown[][] = [];
    for (const [cve, e] of this.kevs) if (e.source === source) k.push(['k', cve, e.json]);
    const e: unknown[][] = [];
    for (const [cve, x] of this.epsss)
      if (x.source === source) e.push(['e', cve, x.score, x.percentile, x.date]);
    return [v, a, k, e].flatMap((t) => t.sort(byCp).map((row) => JSON.stringify(row)));
  }

  private remove(source: string, id: string): void {
    const bySource = this.vulns.get(id);
    if (bySource?.delete(source) && bySource.size === 0) this.vulns.delete(id);
    const owner = `${source}\u0000${id}`;
    for (const key of this.rowKeys.get(owner) ?? []) {
      const kept = (this.rows.get(key) ?? []).filter((r) => !(r.source === source && r.vulnId === id));
      if (kept.length) this.rows.set(key, kept);
      else this.rows.delete(key);
    }
    this.rowKeys.delete(owner);
    const aliases = this.aliasById.get(id);
    if (!aliases) return;
    for (const [alias, sources] of aliases) {
      if (!sources.delete(source)) continue;
      if (sources.size === 0) aliases.delete(alias);
      const back = this.idByAlias.get(alias)?.get(id);
      back?.delete(source);
      if (back?.size === 0) this.idByAlias.get(alias)!.delete(id);
      if (this.idByAlias.get(alias)?.size === 0) this.idByAlias.delete(alias);
    }
    if (aliases.size === 0) this.aliasById.delete(id);
  }

  private vulnerability(app: Application, v: Vulnerability, affected: AffectedPackage[]): void {
    if (!isText(v?.id) || !Array.isArray(affected)) return void app.counts.malformed++;
    const rows: StoredRow[] = [];
    for (const a of affected) {
      if (!isText(a?.namespace) || !isText(a.packageName)) return void app.counts.malformed++;
      rows.push({
        vulnId: v.id,
        source: app.source,
        namespace: a.namespace,
        packageName: a.packageName,
        json: affectedJson(a),
      });
    }
    const repeat = app.seen.has(v.id);
    if (!repeat) {
      app.seen.add(v.id);
      if (!app.cleared) this.remove(app.source, v.id);
    }
    let bySource = this.vulns.get(v.id);
    if (!bySource) this.vulns.set(v.id, (bySource = new Map()));
    bySource.set(app.source, JSON.stringify(v));
    for (const alias of Array.isArray(v.aliases) ? v.aliases : []) {
      if (!isText(alias) || alias === v.id) continue;
      link(this.aliasById, v.id, alias, app.source);
      link(this.idByAlias, alias, v.id, app.source);
    }
    for (const row of rows) {
      const key = keyOf(row.namespace, row.packageName);
      let list = this.rows.get(key);
      if (!list) this.rows.set(key, (list = []));
      const owner = `${row.source}\u0000${row.vulnId}`;
      let keys = this.rowKeys.get(owner);
      if (!keys) this.rowKeys.set(owner, (keys = new Set()));
      keys.add(key);
      if (
        repeat &&
        list.some((r) => r.source === row.source && r.vulnId === row.vulnId && r.json === row.json)
      )
        continue;
      list.push(row);
    }
  }
}

function link(index: Map<string, Map<string, Set<string>>>, from: string, to: string, source: string): void {
  let inner = index.get(from);
  if (!inner) index.set(from, (inner = new Map()));
  let sources = inner.get(to);
  if (!sources) inner.set(to, (sources = new Set()));
  sources.add(source);
}

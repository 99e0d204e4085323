/**
 * The packed form of the `affected` table: ONE row per (namespace, package) holding a JSON array
 * of that package's AffectedPackage entries, so a lookup is one index probe, one row and one
 * JSON.parse, whatever the number of entries.
 *
 * Element text: the entry's stored JSON (the AffectedPackage without its key columns, exactly as
 * `JSON.stringify` wrote it; the text the content hash covers) with `"vulnId"` and `"source"`
 * appended as its last members. Parsing an element therefore gives the object the reader returns
 * minus `namespace` and `packageName`, with its members in the order they always had; deleting
 * the two appended members and re-stringifying gives back the stored JSON byte for byte
 * (`JSON.stringify(JSON.parse(t)) === t` for any text `JSON.stringify` produced).
 *
 * Elements are in (vuln_id, source, json) order, SQLite BINARY collation (they are written from
 * an ORDER BY), which is the order the content hash and `reader.affected` use.
 *
 * A row's *open* entries (no ranges and no listed versions: they apply to every version, like a
 * distro tracker's unfixed and will-not-fix records) are stored apart from the others, in
 * `open_rows` (NULL when there are none), with `open_at` the JSON list of their positions in the
 * full order; `rows` holds the other entries, in order. Each row carries the clear-above version of
 * those other entries (clear-above.ts; NULL when there is none). So a package newer than every
 * fix a tracker lists, but with a few open records (most packages of a current Debian image),
 * needs only its open entries decoded; `mergeOpen` puts the two lists back in the full order.
 */
import type { Database } from 'better-sqlite3';
import { EngineError } from '../errors.js';
import { clearAbove } from './clear-above.js';
import { KeyFilter } from './key-filter.js';

/** One entry as the content hash and the staging table see it. */
export interface AffectedEntry {
  namespace: string;
  packageName: string;
  vulnId: string;
  source: string;
  /** the AffectedPackage without vulnId, source, namespace, packageName, as JSON.stringify wrote it */
  json: string;
}

/** The element text of one entry (see the module comment). */
export function packElement(json: string, vulnId: string, source: string): string {
  const tail = `"vulnId":${JSON.stringify(vulnId)},"source":${JSON.stringify(source)}}`;
  return json === '{}' ? `{${tail}` : `${json.slice(0, -1)},${tail}`;
}

const corrupt = (path: string, what: string) =>
  new EngineError('ENG_DB_CORRUPT', `${path} is not a readable Vigil snapshot: ${what}`);

/**
 * The entries of one packed row, with their stored JSON restored.
 * @throws ENG_DB_CORRUPT when the text is not an array of entries
 */
export function unpackRow(
  path: string,
  namespace: string,
  packageName: string,
  text: string,
): AffectedEntry[] {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw corrupt(path, `affected row of ${namespace} ${packageName} is not JSON`);
  }
  if (!Array.isArray(list)) throw corrupt(path, `affected row of ${namespace} ${packageName} is not a list`);
  return list.map((element: unknown) => {
    if (typeof element !== 'object' || element === null || Array.isArray(element))
      throw corrupt(path, `an affected entry of ${namespace} ${packageName} is not an object`);
    const { vulnId, source, ...rest } = element as Record<string, unknown>;
    if (typeof vulnId !== 'string' || typeof source !== 'string')
      throw corrupt(path, `an affected entry of ${namespace} ${packageName} has no vulnId or source`);
    return { namespace, packageName, vulnId, source, json: JSON.stringify(rest) };
  });
}

const parseJson = (text: string | null): unknown => {
  try {
    return text === null ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** True for an entry that applies to every version: no ranges and no listed versions (an "open" entry). */
export function isOpenEntry(entry: unknown): boolean {
  if (typeof entry !== 'object' || entry === null) return false;
  const { ranges, versions } = entry as { ranges?: unknown; versions?: unknown };
  return (
    Array.isArray(ranges) &&
    ranges.length === 0 &&
    (versions === undefined || (Array.isArray(versions) && versions.length === 0))
  );
}

/**
 * The full list of a packed row: its other entries `rest` and its open entries `open` at the
 * positions of `openAtText` (the stored `open_at`). Undefined when the positions do not fit the
 * lists (not JSON, not strictly increasing integers below the total, or not one per open entry):
 * the caller reports the row as corrupt.
 */
export function mergeOpen<T>(
  rest: readonly T[],
  open: readonly T[],
  openAtText: string | null,
): T[] | undefined {
  const openAt = parseJson(openAtText);
  if (!Array.isArray(openAt) || openAt.length !== open.length) return undefined;
  const total = rest.length + open.length;
  const out = new Array<T>(total);
  let r = 0;
  let o = 0;
  for (let i = 0; i < total; i++) {
    if (o < open.length && openAt[o] === i) out[i] = open[o++]!;
    else if (r < rest.length) out[i] = rest[r++]!;
    else return undefined;
  }
  return o === open.length ? out : undefined;
}

/** Every entry of the packed table, in (namespace, package, vuln_id, source, json) order. @throws ENG_DB_CORRUPT */
export function* packedEntries(db: Database, path: string): Generator<AffectedEntry> {
  const rows = db
    .prepare('SELECT namespace, package, open_at, open_rows, rows FROM affected ORDER BY namespace, package')
    .raw()
    .iterate() as IterableIterator<[string, string, string | null, string | null, string]>;
  for (const [namespace, packageName, openAt, openText, text] of rows) {
    const rest = unpackRow(path, namespace, packageName, text);
    if (openText === null && openAt === null) {
      yield* rest;
      continue;
    }
    const all = mergeOpen(rest, unpackRow(path, namespace, packageName, openText ?? 'null'), openAt);
    if (!all) throw corrupt(path, `the open entries of ${namespace} ${packageName} do not fit its row`);
    yield* all;
  }
}

/**
 * Writes packed rows from entries that arrive in (namespace, package, vuln_id, source, json)
 * order into an empty `affected` table, then the key filter over the written keys. Reading the
 * entries from another table of the same connection while writing needs better-sqlite3's unsafe
 * mode (set by the caller).
 * @returns the number of packed rows (distinct keys) written
 */
export function writePacked(db: Database, entries: Iterable<AffectedEntry>): number {
  const insert = db.prepare(
    `INSERT INTO affected (namespace, package, clear_scheme, clear_above, open_at, open_rows, rows)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  let namespace: string | undefined;
  let packageName = '';
  let parts: string[] = [];
  let written = 0;
  const flush = () => {
    if (namespace === undefined) return;
    const entries = JSON.parse(`[${parts.join(',')}]`) as unknown[];
    const rest: string[] = [];
    const restEntries: unknown[] = [];
    const open: string[] = [];
    const openAt: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (isOpenEntry(entries[i])) {
        open.push(parts[i]!);
        openAt.push(i);
      } else {
        rest.push(parts[i]!);
        restEntries.push(entries[i]);
      }
    }
    const clear = restEntries.length ? clearAbove(namespace, restEntries) : undefined;
    insert.run(
      namespace,
      packageName,
      clear?.scheme ?? null,
      clear?.version ?? null,
      open.length ? JSON.stringify(openAt) : null,
      open.length ? `[${open.join(',')}]` : null,
      `[${rest.join(',')}]`,
    );
    written++;
  };
  for (const e of entries) {
    if (e.namespace !== namespace || e.packageName !== packageName) {
      flush();
      namespace = e.namespace;
      packageName = e.packageName;
      parts = [];
    }
    parts.push(packElement(e.json, e.vulnId, e.source));
  }
  flush();
  const filter = buildKeyFilter(db);
  db.prepare('DELETE FROM affected_filter').run();
  db.prepare('INSERT INTO affected_filter (probes, bits) VALUES (?, ?)').run(filter.probes, filter.bits);
  return written;
}

/** The key filter of the packed table's keys (sized by their number, so it is reproducible). */
function buildKeyFilter(db: Database): KeyFilter {
  const keys = db.prepare('SELECT namespace, package FROM affected').raw().all() as [string, string][];
  const filter = KeyFilter.sized(keys.length);
  for (const [namespace, packageName] of keys) filter.add(namespace, packageName);
  return filter;
}

/**
 * The stored key filter. @throws ENG_DB_CORRUPT when it is missing or unusable
 */
export function readKeyFilter(db: Database, path: string): KeyFilter {
  const row = db.prepare('SELECT probes, bits FROM affected_filter').raw().get() as
    [unknown, unknown] | undefined;
  const [probes, bits] = row ?? [];
  if (!(bits instanceof Uint8Array) || typeof probes !== 'number' || !KeyFilter.valid(bits, probes))
    throw corrupt(path, 'the package key filter is missing or damaged');
  return new KeyFilter(bits, probes);
}

/**
 * True when every packed row's derived columns are the ones its entries give: open entries (and
 * only they) in `open_rows`, and the clear-above version of the others (clear-above.ts).
 */
export function clearAboveMatches(db: Database): boolean {
  const rows = db
    .prepare('SELECT namespace, clear_scheme, clear_above, open_at, open_rows, rows FROM affected')
    .raw()
    .iterate() as IterableIterator<
    [string, string | null, string | null, string | null, string | null, string]
  >;
  try {
    for (const [namespace, scheme, version, openAt, openText, text] of rows) {
      const rest = parseJson(text);
      if (!Array.isArray(rest) || rest.some(isOpenEntry)) return false;
      if (openText !== null || openAt !== null) {
        const open = parseJson(openText);
        if (!Array.isArray(open) || open.length === 0 || !open.every(isOpenEntry)) return false;
        if (!mergeOpen(rest, open, openAt)) return false;
      }
      const clear = rest.length ? clearAbove(namespace, rest) : undefined;
      if ((clear?.scheme ?? null) !== scheme || (clear?.version ?? null) !== version) return false;
    }
    return true;
  } finally {
    rows.return?.();
  }
}

/** True when the stored key filter is exactly the one the packed keys give. @throws ENG_DB_CORRUPT */
export function keyFilterMatches(db: Database, path: string): boolean {
  const stored = readKeyFilter(db, path);
  const rebuilt = buildKeyFilter(db);
  return stored.probes === rebuilt.probes && Buffer.from(stored.bits).equals(Buffer.from(rebuilt.bits));
}

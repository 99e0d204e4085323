/**
 * Alpine-style secdb documents → normalised records (Alpine, Wolfi, Chainguard).
 *
 * Format: https://secdb.alpinelinux.org/ (`v3.19/main.json`; the same document in YAML under
 * vunnel's mirror), generated from the `secfixes:` comments of APKBUILDs
 * (https://wiki.alpinelinux.org/wiki/APKBUILD_Reference#secfixes):
 * `{ distroversion?, reponame, urlprefix, apkurl, archs, packages: [ { pkg: { name, secfixes:
 * { "<fixed version>": ["CVE-…", "CVE-… XSA-…", …] } } } ] }`. Wolfi and Chainguard publish
 * the same shape without `distroversion`.
 *
 * - `pkg.name` is the origin (source) package: what the apk matcher keys on (the `o:` field).
 * - A fixed version `v` means every version before it was affected:
 *   ranges `[{ introduced: "0" }, { fixed: v }]`.
 * - The version `"0"` lists CVEs that never affected the package (the aports convention, also
 *   Wolfi's "false positive" marker) → not-affected.
 * - An entry may carry several ids ("CVE-2017-2616 (+ regression fix)", "CVE-… XSA-…"): every
 *   CVE in it is kept and the rest dropped (as trivy-db does); an entry without a CVE keeps its
 *   leading id (Wolfi lists GHSA-…, Xen entries XSA-…). An entry with no id at all is malformed.
 * - One record per id per document: the same CVE fixed in several packages or versions becomes
 *   one record with one row each.
 */
import { EngineError } from '../../errors.js';
import type { AffectedPackage } from '../../model/vulnerability.js';
import type { FeedRecord } from '../types.js';

const CVE = /^CVE[-_](\d{4})[-_](\d{4,})$/;
const OTHER_ID = /^[A-Z][A-Z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export interface SecdbOptions {
  /** namespace of every row: `alpine:3.19`, `wolfi`, `chainguard` */
  namespace: string;
  /** document name for messages */
  name: string;
}

/** The ids one secfixes entry stands for (empty: none recognisable). */
export function entryIds(entry: string): string[] {
  const tokens = entry.trim().split(/\s+/);
  const cves: string[] = [];
  for (const t of tokens) {
    const m = CVE.exec(t);
    if (m) cves.push(`CVE-${m[1]}-${m[2]}`);
  }
  if (cves.length > 0) return cves;
  const first = tokens[0] ?? '';
  return OTHER_ID.test(first) ? [first] : [];
}

/**
 * The Alpine namespace of a document: `distroversion` "v3.19" → `alpine:3.19` ("edge" → `alpine:edge`).
 * @throws EngineError ENG_FEED_FORMAT without a usable distroversion.
 */
export function alpineNamespace(doc: unknown, name: string): string {
  const dv = isObject(doc) ? doc.distroversion : undefined;
  const m = typeof dv === 'string' ? /^v?(\d+\.\d+|edge)$/.exec(dv.trim()) : null;
  if (!m) throw new EngineError('ENG_FEED_FORMAT', `${name}: no Alpine distroversion (v<major>.<minor>)`);
  return `alpine:${m[1]}`;
}

/**
 * Maps one parsed secdb document. Malformed packages and entries come out as `malformed`
 * records, in document order, before the vulnerabilities.
 * @throws EngineError ENG_FEED_FORMAT when the document has no `packages` list.
 */
export function secdbRecords(doc: unknown, options: SecdbOptions): FeedRecord[] {
  if (!isObject(doc) || !Array.isArray(doc.packages))
    throw new EngineError('ENG_FEED_FORMAT', `${options.name}: not a secdb document (no packages list)`);
  const repository = typeof doc.reponame === 'string' && doc.reponame !== '' ? doc.reponame : undefined;
  const bad: FeedRecord[] = [];
  const byId = new Map<string, AffectedPackage[]>();
  const seen = new Set<string>();
  doc.packages.forEach((item: unknown, i: number) => {
    const pkg = isObject(item) ? item.pkg : undefined;
    const name = isObject(pkg) && typeof pkg.name === 'string' ? pkg.name.trim() : '';
    if (!isObject(pkg) || name === '' || /\s/.test(name)) {
      bad.push({ type: 'malformed', message: 'package without a name', ref: `packages[${i}]` });
      return;
    }
    const secfixes = pkg.secfixes;
    if (secfixes === undefined || secfixes === null) return;
    if (!isObject(secfixes)) {
      bad.push({ type: 'malformed', message: 'secfixes is not a map', ref: name });
      return;
    }
    for (const [rawVersion, entries] of Object.entries(secfixes)) {
      const version = rawVersion.trim();
      if (version === '' || /\s/.test(version) || !Array.isArray(entries)) {
        bad.push({ type: 'malformed', message: 'unusable secfixes entry', ref: `${name}/${rawVersion}` });
        continue;
      }
      for (const entry of entries) {
        const ids = typeof entry === 'string' ? entryIds(entry) : [];
        if (ids.length === 0) {
          const text = typeof entry === 'string' ? entry : JSON.stringify(entry ?? null);
          bad.push({
            type: 'malformed',
            message: `no id in ${text.slice(0, 60)}`,
            ref: `${name}/${version}`,
          });
          continue;
        }
        for (const id of ids) {
          const key = `${id}\u0000${name}\u0000${version}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const row: AffectedPackage =
            version === '0'
              ? {
                  vulnId: id,
                  namespace: options.namespace,
                  packageName: name,
                  fixState: 'not-affected',
                  ranges: [],
                }
              : {
                  vulnId: id,
                  namespace: options.namespace,
                  packageName: name,
                  fixState: 'fixed',
                  ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: version }] }],
                  fixedVersion: version,
                };
          if (repository) row.extra = { repository };
          const rows = byId.get(id);
          if (rows) rows.push(row);
          else byId.set(id, [row]);
        }
      }
    }
  });
  const out: FeedRecord[] = bad;
  for (const [id, affected] of byId) {
    out.push({
      type: 'vulnerability',
      vulnerability: { id, aliases: [], cvss: [], vendorSeverities: [], cwes: [], references: [] },
      affected,
    });
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Amazon Linux security advisories (ALAS) → normalised records.
 *
 * Sources of the same data:
 * - the yum repository's `updateinfo.xml` (createrepo/yum updateinfo format, as dnf reads it:
 *   https://github.com/rpm-software-management/createrepo_c/blob/master/src/updateinfo.h):
 *   `<updates><update type="security"><id>ALAS2-2021-1699</id><severity>low</severity>
 *   <references><reference type="cve" id="CVE-…" href="…"/></references><pkglist><collection>
 *   <package name epoch version release arch>…`;
 * - vuln-list's JSON form of one such `<update>` (`{id, severity, packages[], references[], cveids[]}`).
 *
 * One record per CVE the advisory fixes (the id Vigil reports, with KEV/EPSS/NVD data), the ALAS
 * id in `related` and on the rows (`extra.advisory`); an advisory without CVEs is a record of its
 * own id. A CVE fixed by several advisories comes out once per advisory: the snapshot merges the
 * parts. Rows name BINARY rpms (`extra.binary`): updateinfo lists the built packages, not their
 * source rpm. Architectures collapse; the version is `E:V-R` (epoch left out when 0).
 * Namespace from the id: ALAS2023-… → amzn:2023, ALAS2-… (and AL2 extras, ALAS2KERNEL-…) →
 * amzn:2, ALAS-… → amzn:1 (Amazon Linux AMI).
 * Severity (https://alas.aws.amazon.com/faqs.html): critical → CRITICAL, important → HIGH,
 * medium → MEDIUM, low → LOW.
 */
import type { Severity } from '../../model/severity.js';
import type { AffectedPackage, Vulnerability } from '../../model/vulnerability.js';
import type { FeedRecord } from '../types.js';

export interface AmazonUpdate {
  id: string;
  severity?: string;
  issued?: string;
  updated?: string;
  cves: string[];
  references: string[];
  packages: { name: string; epoch?: string; version: string; release: string }[];
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

/** `amzn:<release>` for an advisory id, or undefined for ids of no known release. */
export function amazonNamespace(id: string): string | undefined {
  if (/^ALAS2023[A-Z0-9.-]*-\d{4}-\d+$/.test(id)) return 'amzn:2023';
  if (/^ALAS2022[A-Z0-9.-]*-\d{4}-\d+$/.test(id)) return 'amzn:2022';
  if (/^ALAS2[A-Z][A-Z0-9.-]*-\d{4}-\d+$/.test(id) || /^ALAS2-\d{4}-\d+$/.test(id)) return 'amzn:2';
  if (/^ALAS-\d{4}-\d+$/.test(id)) return 'amzn:1';
  return undefined;
}

export function amazonSeverity(rating: string): Severity {
  switch (rating.trim().toLowerCase()) {
    case 'critical':
      return 'CRITICAL';
    case 'important':
      return 'HIGH';
    case 'medium':
      return 'MEDIUM';
    case 'low':
      return 'LOW';
    default:
      return 'UNKNOWN';
  }
}

/** The records of one advisory (malformed when it has no usable id or package). */
export function updateRecords(u: AmazonUpdate, ref: string): FeedRecord[] {
  const namespace = amazonNamespace(u.id);
  if (!namespace) return [{ type: 'malformed', message: `not an ALAS id: ${u.id.slice(0, 60)}`, ref }];
  const bad: FeedRecord[] = [];
  const rows: Omit<AffectedPackage, 'vulnId'>[] = [];
  const seen = new Set<string>();
  for (const p of u.packages) {
    if (!p.name || !p.version || !p.release || /\s/.test(p.name + p.version + p.release)) {
      bad.push({
        type: 'malformed',
        message: 'package without name, version or release',
        ref: `${u.id}/${p.name}`,
      });
      continue;
    }
    const fixed = `${p.epoch && p.epoch !== '0' ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
    const key = `${p.name}\u0000${fixed}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      namespace,
      packageName: p.name,
      fixState: 'fixed',
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
      fixedVersion: fixed,
      extra: { advisory: u.id, binary: true },
    });
  }
  const rating = u.severity?.trim();
  const ids = u.cves.length > 0 ? u.cves : [u.id];
  const records = ids.map((id): FeedRecord => {
    const vulnerability: Vulnerability = {
      id,
      aliases: [],
      cvss: [],
      vendorSeverities: rating ? [{ source: 'amazon', rating, severity: amazonSeverity(rating) }] : [],
      cwes: [],
      references: u.references,
    };
    if (id !== u.id) vulnerability.related = [u.id];
    if (u.issued) vulnerability.published = u.issued;
    if (u.updated) vulnerability.modified = u.updated;
    return { type: 'vulnerability', vulnerability, affected: rows.map((r) => ({ vulnId: id, ...r })) };
  });
  return [...bad, ...records];
}

/** One vuln-list ALAS JSON document → an update (undefined when it is not one). */
export function updateFromJson(doc: unknown): AmazonUpdate | undefined {
  if (!isObject(doc) || typeof doc.id !== 'string' || !Array.isArray(doc.packages)) return undefined;
  const dateOf = (v: unknown) => (isObject(v) && typeof v.date === 'string' && v.date ? v.date : undefined);
  const refs = Array.isArray(doc.references) ? doc.references.filter(isObject) : [];
  const cves = new Set<string>();
  for (const c of Array.isArray(doc.cveids) ? doc.cveids : [])
    if (typeof c === 'string' && CVE_ID.test(c)) cves.add(c);
  for (const r of refs) if (r.type === 'cve' && typeof r.id === 'string' && CVE_ID.test(r.id)) cves.add(r.id);
  const u: AmazonUpdate = {
    id: doc.id,
    cves: [...cves],
    references: [
      ...new Set(refs.map((r) => r.href).filter((h): h is string => typeof h === 'string' && h !== '')),
    ],
    packages: doc.packages.filter(isObject).map((p) => ({
      name: text(p.name),
      epoch: text(p.epoch),
      version: text(p.version),
      release: text(p.release),
    })),
  };
  if (typeof doc.severity === 'string' && doc.severity) u.severity = doc.severity;
  const issued = dateOf(doc.issued);
  if (issued) u.issued = issued;
  const updated = dateOf(doc.updated);
  if (updated) u.updated = updated;
  return u;
}

/** One `<update>…</update>` element of updateinfo.xml → an update (undefined without an id). */
export function updateFromXml(xml: string): AmazonUpdate | undefined {
  const id = decode(/<id>([^<]*)<\/id>/.exec(xml)?.[1] ?? '').trim();
  if (!id) return undefined;
  const cves = new Set<string>();
  const references: string[] = [];
  for (const m of xml.matchAll(/<reference\b([^>]*?)\/?>/g)) {
    const a = attributes(m[1]!);
    if (a.type === 'cve' && a.id && CVE_ID.test(a.id)) cves.add(a.id);
    if (a.href && !references.includes(a.href)) references.push(a.href);
  }
  const packages = [...xml.matchAll(/<package\b([^>]*?)\/?>/g)].map((m) => {
    const a = attributes(m[1]!);
    return { name: a.name ?? '', epoch: a.epoch, version: a.version ?? '', release: a.release ?? '' };
  });
  const u: AmazonUpdate = { id, cves: [...cves], references, packages };
  const severity = /<severity>([^<]*)<\/severity>/.exec(xml)?.[1];
  if (severity?.trim()) u.severity = decode(severity).trim();
  const issued = /<issued\b([^>]*?)\/?>/.exec(xml)?.[1];
  if (issued && attributes(issued).date) u.issued = attributes(issued).date;
  const updated = /<updated\b([^>]*?)\/?>/.exec(xml)?.[1];
  if (updated && attributes(updated).date) u.updated = attributes(updated).date;
  return u;
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
    out[m[1]!] = decode(m[2] ?? m[3] ?? '');
  return out;
}

/** XML character references and the five predefined entities. */
function decode(s: string): string {
  return s.replace(/&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(lt|gt|amp|quot|apos));/g, (all, dec, hex, name) => {
    if (name) return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[name as 'lt'];
    const cp = dec ? Number(dec) : parseInt(hex as string, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
  });
}

const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

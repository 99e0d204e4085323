/**
 * One GitHub security advisory → one FeedRecord (pure).
 *
 * Formats: the REST global advisory (https://docs.github.com/en/rest/security-advisories/global-advisories:
 * `ghsa_id`, `cve_id`, `identifiers[]`, `vulnerabilities[].package{ecosystem,name}`,
 * `vulnerable_version_range`, `first_patched_version` (a string; `{identifier}` accepted too),
 * `cvss_severities.cvss_v3|cvss_v4.vector_string`, legacy `cvss.vector_string`, `cwes[].cwe_id`,
 * `references[]` (strings), `withdrawn_at`) and the same advisory in GraphQL shape
 * (https://docs.github.com/en/graphql/reference/objects#securityadvisory: `ghsaId`,
 * `vulnerabilities.nodes[]`, `vulnerableVersionRange`, `firstPatchedVersion.identifier`,
 * `cvss.vectorString`, `cwes.nodes[].cweId`, `references[].url`, `withdrawnAt`).
 *
 * Mapping: `withdrawn_at` set → `{type:'withdrawn'}`; aliases = identifiers and cve_id other than the
 * GHSA id; CVSS with source `ghsa`; `severity` → vendorSeverities (`ghsa`); one AffectedPackage per
 * vulnerability entry (range strings converted by ghsa-range.ts, the original string kept as
 * `extra.vulnerableVersionRange`). Ecosystems: npm, pip→pypi (PEP 503 names), go→golang, maven,
 * rubygems→gem, rust→cargo, composer, nuget; others (actions, erlang, pub, swift, other) are
 * skipped and counted. A shape error or an unreadable range string makes the advisory `malformed`.
 */
import type { FeedRecord } from '../types.js';
import type { AffectedPackage, CvssEntry, Vulnerability } from '../../model/vulnerability.js';
import { packageName } from './ecosystems.js';
import { ghsaRangeToEvents } from './ghsa-range.js';
import type { OsvParseStats } from './osv-record.js';
import { addCvss, cvssFromVector, unique, vendorSeverity } from './severity.js';
import { fail, isObject, optArray, optObject, optString, type Json } from './shape.js';

/** GitHub ecosystem names (REST lower case, GraphQL upper case) → namespaces. */
const ECOSYSTEMS: Readonly<Record<string, string>> = {
  npm: 'npm',
  pip: 'pypi',
  go: 'golang',
  maven: 'maven',
  rubygems: 'gem',
  rust: 'cargo',
  composer: 'composer',
  nuget: 'nuget',
};

/** Reads `key` (REST snake_case) or `alt` (GraphQL camelCase). */
function pick(obj: Json, key: string, alt: string): unknown {
  return obj[key] ?? obj[alt];
}

function str(obj: Json, key: string, alt: string, where = ''): string | undefined {
  const v = pick(obj, key, alt);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') fail(`${where}${key} is not a string`);
  return v;
}

/** A list given as an array (REST) or as `{nodes: [...]}` (GraphQL). */
function list(obj: Json, key: string, alt = key): unknown[] {
  const v = pick(obj, key, alt);
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  if (isObject(v)) return optArray(v, 'nodes', `${key}.`);
  return fail(`${key} is neither a list nor a connection`);
}

/** Maps one advisory object; never throws. */
export function parseGhsaAdvisory(doc: unknown, stats?: OsvParseStats): FeedRecord {
  if (stats) stats.records++;
  const ref = isObject(doc) ? (pick(doc, 'ghsa_id', 'ghsaId') as unknown) : undefined;
  try {
    const record = toRecord(doc, stats);
    if (stats) {
      if (record.type === 'withdrawn') stats.withdrawn++;
      else stats.vulnerabilities++;
    }
    return record;
  } catch (e) {
    if (stats) stats.malformed++;
    const id = typeof ref === 'string' ? ref : undefined;
    const message = `GitHub advisory${id ? ` ${id}` : ''}: ${(e as Error).message}`;
    return id ? { type: 'malformed', message, ref: id } : { type: 'malformed', message };
  }
}

function toRecord(doc: unknown, stats: OsvParseStats | undefined): FeedRecord {
  if (!isObject(doc)) fail('not a JSON object');
  const id = str(doc, 'ghsa_id', 'ghsaId');
  if (!id) fail('no ghsa_id');
  if (str(doc, 'withdrawn_at', 'withdrawnAt')) return { type: 'withdrawn', id };

  const aliases: string[] = [];
  for (const ident of list(doc, 'identifiers')) {
    if (!isObject(ident) || typeof ident.value !== 'string')
      fail('identifiers holds an entry without a value');
    aliases.push(ident.value);
  }
  const cve = str(doc, 'cve_id', 'cveId');
  if (cve) aliases.push(cve);

  const cvss: CvssEntry[] = [];
  const severities = optObject(doc, doc.cvss_severities !== undefined ? 'cvss_severities' : 'cvssSeverities');
  for (const [key, alt] of [
    ['cvss_v3', 'cvssV3'],
    ['cvss_v4', 'cvssV4'],
  ] as const) {
    const s = severities && pick(severities, key, alt);
    if (isObject(s)) addCvss(cvss, vector(s));
  }
  const legacy = optObject(doc, 'cvss');
  if (legacy) addCvss(cvss, vector(legacy));

  const cwes: string[] = [];
  for (const c of list(doc, 'cwes')) {
    const cweId = isObject(c) ? pick(c, 'cwe_id', 'cweId') : undefined;
    if (typeof cweId === 'string' && cweId) cwes.push(cweId);
  }
  const refs: string[] = [];
  for (const r of list(doc, 'references')) {
    const url = typeof r === 'string' ? r : isObject(r) ? r.url : undefined;
    if (typeof url === 'string' && url) refs.push(url);
  }
  const page = str(doc, 'html_url', 'permalink');
  if (page) refs.push(page);

  const vulnerability: Vulnerability = {
    id,
    aliases: unique(aliases).filter((a) => a !== id),
    cvss,
    vendorSeverities: [],
    cwes: unique(cwes),
    references: unique(refs),
  };
  const severity = str(doc, 'severity', 'severity');
  if (severity && severity.toLowerCase() !== 'unknown')
    vulnerability.vendorSeverities.push(vendorSeverity('ghsa', severity));
  const title = str(doc, 'summary', 'summary');
  if (title) vulnerability.title = title;
  const description = str(doc, 'description', 'description');
  if (description) vulnerability.description = description;
  const published = str(doc, 'published_at', 'publishedAt');
  if (published) vulnerability.published = published;
  const modified = str(doc, 'updated_at', 'updatedAt');
  if (modified) vulnerability.modified = modified;

  const affected: AffectedPackage[] = [];
  list(doc, 'vulnerabilities').forEach((v, i) => {
    const row = readVulnerability(v, `vulnerabilities[${i}].`, id, stats);
    if (row) affected.push(row);
  });
  return { type: 'vulnerability', vulnerability, affected };
}

function vector(obj: Json): CvssEntry | undefined {
  const v = pick(obj, 'vector_string', 'vectorString');
  const score = obj.score;
  return typeof v === 'string'
    ? cvssFromVector('auto', v, 'ghsa', typeof score === 'number' ? score : undefined)
    : undefined;
}

function readVulnerability(
  v: unknown,
  where: string,
  vulnId: string,
  stats: OsvParseStats | undefined,
): AffectedPackage | undefined {
  if (!isObject(v)) fail(`${where.slice(0, -1)} is not an object`);
  const pkg = optObject(v, 'package', where);
  const ecosystem = pkg && optString(pkg, 'ecosystem', `${where}package.`);
  const name = pkg && optString(pkg, 'name', `${where}package.`);
  if (!ecosystem || !name) fail(`${where}package needs ecosystem and name`);
  const namespace = ECOSYSTEMS[ecosystem.toLowerCase()];
  if (!namespace) {
    if (stats) {
      stats.skippedAffected++;
      stats.skippedByEcosystem[ecosystem] = (stats.skippedByEcosystem[ecosystem] ?? 0) + 1;
    }
    return undefined;
  }
  const range = str(v, 'vulnerable_version_range', 'vulnerableVersionRange', where);
  const patchedRaw = pick(v, 'first_patched_version', 'firstPatchedVersion');
  let patched: string | undefined;
  if (typeof patchedRaw === 'string') patched = patchedRaw;
  else if (isObject(patchedRaw) && typeof patchedRaw.identifier === 'string') patched = patchedRaw.identifier;
  else if (patchedRaw !== undefined && patchedRaw !== null)
    fail(`${where}first_patched_version is neither a string nor {identifier}`);

  const converted = ghsaRangeToEvents(range, patched);
  if (!converted.ok) fail(`${where}vulnerable_version_range: ${converted.message}`);
  const row: AffectedPackage = {
    vulnId,
    namespace,
    packageName: packageName(namespace, name),
    fixState: converted.fixState,
    ranges: converted.ranges,
  };
  if (converted.versions.length) row.versions = converted.versions;
  if (converted.fixedVersion !== undefined) row.fixedVersion = converted.fixedVersion;
  if (range) row.extra = { vulnerableVersionRange: range };
  return row;
}

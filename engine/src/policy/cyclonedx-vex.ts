/**
 * CycloneDX VEX (https://cyclonedx.org/capabilities/vex/, schema 1.4–1.6 `vulnerabilities[]`):
 * `id`, `references[].id` (aliases), `analysis.state` / `justification` / `detail` /
 * `lastUpdated` / `firstIssued`, and `affects[].ref`: a bom-ref of the described BOM (in Vigil's
 * and trivy's SBOMs the bom-ref is the purl) or a BOM-Link `urn:cdx:<serial>/<version>#<bom-ref>`.
 *
 * Analysis states map onto OpenVEX statuses as trivy maps them: `not_affected` and
 * `false_positive` → not_affected, `resolved` and `resolved_with_pedigree` → fixed,
 * `exploitable` → affected, `in_triage` → under_investigation. A vulnerability without an
 * `analysis.state` is a finding, not a VEX statement, and is skipped.
 */
import { EngineError } from '../errors.js';
import type { VexDocument, VexStatement, VexStatus } from './vex-types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

const STATES: Readonly<Record<string, VexStatus>> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
};

function invalid(where: string, message: string): EngineError {
  return new EngineError('ENG_POLICY_INVALID', `${where}: ${message}`);
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(where, 'must be a list');
  return value;
}

/** The bom-ref a BOM-Link points at, or the ref itself. */
function refIds(ref: string): string[] {
  const m = /^urn:cdx:[^#]*#(.+)$/.exec(ref);
  if (!m) return [ref];
  let fragment = m[1]!;
  try {
    fragment = decodeURIComponent(fragment);
  } catch {
    // keep it encoded
  }
  return [ref, fragment];
}

/** True when the parsed JSON is a CycloneDX BOM. */
export function isCycloneDx(doc: unknown): boolean {
  return isObject(doc) && doc.bomFormat === 'CycloneDX';
}

/**
 * Normalises the VEX statements of a parsed CycloneDX BOM.
 *
 * @throws EngineError ENG_POLICY_INVALID naming the vulnerability for an unknown analysis state,
 *   a vulnerability without an id, or lists that are not lists.
 */
export function parseCycloneDxVex(doc: unknown, source: string): VexDocument {
  if (!isObject(doc)) throw invalid(source, 'not a JSON object');
  const docTime = isObject(doc.metadata) ? str(doc.metadata.timestamp) : undefined;
  const statements: VexStatement[] = [];
  list(doc.vulnerabilities, `${source}: vulnerabilities`).forEach((v, i) => {
    const where = `${source}: vulnerabilities[${i}]`;
    if (!isObject(v)) throw invalid(where, 'must be an object');
    const analysis = v.analysis;
    if (analysis !== undefined && !isObject(analysis))
      throw invalid(`${where}.analysis`, 'must be an object');
    const state = analysis ? str(analysis.state) : undefined;
    if (!state) return;
    const status = STATES[state];
    if (!status)
      throw invalid(
        `${where}.analysis.state`,
        `unknown state "${state}" (expected ${Object.keys(STATES).join(', ')})`,
      );
    const id = str(v.id);
    if (!id) throw invalid(where, 'no id');
    const ids = [id];
    for (const [k, r] of list(v.references, `${where}.references`).entries()) {
      const rid = isObject(r) ? str(r.id) : undefined;
      if (!rid) throw invalid(`${where}.references[${k}]`, 'a reference needs an id');
      if (!ids.includes(rid)) ids.push(rid);
    }
    const products = list(v.affects, `${where}.affects`).map((a, k) => {
      const ref = isObject(a) ? str(a.ref) : undefined;
      if (!ref) throw invalid(`${where}.affects[${k}]`, 'an affects entry needs a ref');
      return { ids: refIds(ref), subcomponents: [] };
    });
    const statement: VexStatement = {
      vulnerability: id,
      ids,
      products,
      status,
      rawStatus: state,
      location: `vulnerabilities[${i}]`,
    };
    const justification = str(analysis!.justification);
    if (justification) statement.justification = justification;
    const detail = str(analysis!.detail);
    if (detail) statement.impactStatement = detail;
    const time = str(analysis!.lastUpdated) ?? str(analysis!.firstIssued) ?? str(v.updated) ?? docTime;
    if (time) statement.timestamp = time;
    statements.push(statement);
  });
  const out: VexDocument = { format: 'cyclonedx', id: str(doc.serialNumber) ?? source, source, statements };
  if (docTime) out.timestamp = docTime;
  return out;
}

/**
 * OpenVEX documents (https://github.com/openvex/spec/blob/main/OPENVEX-SPEC.md, v0.2.0 and the
 * v0.0.x drafts): `statements[]` with `vulnerability` (`name`, `@id`, `aliases`; a bare string in
 * v0.0.1), `products[]` (`@id`, `identifiers.purl`, `subcomponents[]`; bare strings in v0.0.1),
 * a statement-level `subcomponents` (v0.0.1), `status`, `justification`, `impact_statement`,
 * `timestamp` (inherited from the document when absent).
 */
import { EngineError } from '../errors.js';
import {
  VEX_STATUSES,
  type VexDocument,
  type VexProduct,
  type VexStatement,
  type VexStatus,
} from './vex-types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
/** ids that are URLs (`https://nvd.nist.gov/vuln/detail/CVE-…`) identify pages, not vulnerabilities */
const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

function invalid(where: string, message: string): EngineError {
  return new EngineError('ENG_POLICY_INVALID', `${where}: ${message}`);
}

/** Identifiers of an OpenVEX component: `@id` and the values of `identifiers` (purl, cpe…). */
function componentIds(value: unknown, where: string): string[] {
  if (typeof value === 'string') return value.trim() ? [value.trim()] : [];
  if (!isObject(value)) throw invalid(where, 'a product must be an object or a string');
  const ids: string[] = [];
  const id = str(value['@id']);
  if (id) ids.push(id);
  if (isObject(value.identifiers)) {
    for (const v of Object.values(value.identifiers)) {
      const s = str(v);
      if (s && !ids.includes(s)) ids.push(s);
    }
  }
  return ids;
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(where, 'must be a list');
  return value;
}

function statementOf(s: unknown, i: number, source: string, docTime: string | undefined): VexStatement {
  const where = `${source}: statements[${i}]`;
  if (!isObject(s)) throw invalid(where, 'a statement must be an object');
  const v = s.vulnerability;
  let name: string | undefined;
  const ids: string[] = [];
  if (typeof v === 'string') {
    name = str(v);
  } else if (isObject(v)) {
    name = str(v.name);
    const atId = str(v['@id']);
    if (atId && !isUrl(atId)) ids.push(atId);
    for (const [k, a] of list(v.aliases, `${where}.vulnerability.aliases`).entries()) {
      const alias = str(a);
      if (alias === undefined) throw invalid(`${where}.vulnerability.aliases[${k}]`, 'must be a string');
      if (!isUrl(alias)) ids.push(alias);
    }
  }
  if (!name) throw invalid(where, 'no vulnerability name');
  const status = str(s.status);
  if (!status) throw invalid(where, 'no status');
  if (!(VEX_STATUSES as readonly string[]).includes(status)) {
    throw invalid(where, `unknown status "${status}" (expected ${VEX_STATUSES.join(', ')})`);
  }
  const shared = list(s.subcomponents, `${where}.subcomponents`).map((c, k) =>
    componentIds(c, `${where}.subcomponents[${k}]`),
  );
  const products: VexProduct[] = list(s.products, `${where}.products`).map((p, k) => {
    const pw = `${where}.products[${k}]`;
    const subs = isObject(p) ? list(p.subcomponents, `${pw}.subcomponents`) : [];
    return {
      ids: componentIds(p, pw),
      subcomponents: [...shared, ...subs.map((c, j) => componentIds(c, `${pw}.subcomponents[${j}]`))],
    };
  });
  const statement: VexStatement = {
    vulnerability: name,
    ids: [name, ...ids.filter((x) => x !== name)],
    products,
    status: status as VexStatus,
    rawStatus: status,
    location: `statements[${i}]`,
  };
  const justification = str(s.justification);
  if (justification) statement.justification = justification;
  const impact = str(s.impact_statement);
  if (impact) statement.impactStatement = impact;
  const time = str(s.timestamp) ?? docTime;
  if (time) statement.timestamp = time;
  return statement;
}

/** True when the parsed JSON looks like an OpenVEX document. */
export function isOpenVex(doc: unknown): boolean {
  if (!isObject(doc)) return false;
  const ctx = doc['@context'];
  return (typeof ctx === 'string' && ctx.includes('openvex')) || Array.isArray(doc.statements);
}

/**
 * Normalises a parsed OpenVEX document.
 *
 * @throws EngineError ENG_POLICY_INVALID naming the statement for a statement without a
 *   vulnerability name or status, an unknown status, or lists that are not lists.
 */
export function parseOpenVex(doc: unknown, source: string): VexDocument {
  if (!isObject(doc)) throw invalid(source, 'not a JSON object');
  const timestamp = str(doc.timestamp);
  const statements = list(doc.statements, `${source}: statements`).map((s, i) =>
    statementOf(s, i, source, timestamp),
  );
  const out: VexDocument = { format: 'openvex', id: str(doc['@id']) ?? source, source, statements };
  if (timestamp) out.timestamp = timestamp;
  return out;
}

/**
 * VEX (`--vex FILE`): statements by a supplier that a vulnerability does not affect, or is fixed
 * in, a product. Findings a `not_affected` or `fixed` statement covers are suppressed and
 * reported as such ("suppressed by VEX"), never silently dropped.
 *
 * Formats: OpenVEX JSON (openvex.ts) and CycloneDX VEX JSON (cyclonedx-vex.ts), told apart by
 * content. CSAF VEX is not read.
 *
 * A statement covers a finding when
 * 1. one of its ids (name / id and aliases) equals the finding id or one of the finding's aliases
 *    (case-insensitive), and
 * 2. one of its products covers the finding's package:
 *    - without subcomponents: a product identifier covers the package purl (purl-match.ts rules:
 *      no version = every version, qualifiers a subset; the `package-id` uniqueness qualifier of
 *      syft/Vigil bom-refs is ignored), or equals the package's SBOM bom-ref / SPDX id
 *      (`metadata.bomRef` / `metadata.spdxId`, set by the SBOM reader), or covers the scanned
 *      artifact's purl (`artifactPurl`: the statement then speaks for the whole image);
 *    - with subcomponents: the product covers the artifact purl and a subcomponent covers the
 *      package as above (trivy's reading of OpenVEX subcomponents). Findings carry no dependency
 *      graph, so a product that is itself a package does not extend to its dependencies.
 * When several statements cover one finding, the latest (statement timestamp, else the
 * document's; equal or missing times: the later one in input order) decides, as OpenVEX's
 * "statements override earlier ones" asks: a later `affected` re-opens an earlier `not_affected`.
 */
import { readFile, stat } from 'node:fs/promises';
import { EngineError } from '../errors.js';
import type { Finding } from '../model/finding.js';
import { toPurl } from '../purl/index.js';
import { isCycloneDx, parseCycloneDxVex } from './cyclonedx-vex.js';
import { isOpenVex, parseOpenVex } from './openvex.js';
import { parsePurl, purlMatches, type ParsedPurl } from './purl-match.js';
import { SUPPRESSING_STATUSES, type VexDocument, type VexProduct, type VexStatement } from './vex-types.js';

export * from './vex-types.js';

const MAX_VEX_BYTES = 256 * 1024 * 1024;

/**
 * Parses one VEX document (JSON text or bytes), detecting the format by content.
 *
 * @throws EngineError ENG_POLICY_INVALID when the input is not JSON, is a CSAF document or
 *   another JSON, or a statement is malformed (the message names it).
 */
export function parseVex(input: string | Uint8Array, source = 'vex'): VexDocument {
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new EngineError('ENG_POLICY_INVALID', `${source}: not UTF-8 text`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new EngineError('ENG_POLICY_INVALID', `${source}: not JSON (${(e as Error).message})`);
  }
  if (isCycloneDx(doc)) return parseCycloneDxVex(doc, source);
  if (isOpenVex(doc)) return parseOpenVex(doc, source);
  const csaf = typeof doc === 'object' && doc !== null && 'document' in doc && 'product_tree' in doc;
  throw new EngineError(
    'ENG_POLICY_INVALID',
    `${source}: ${csaf ? 'CSAF VEX is not supported' : 'not a VEX document'}; expected OpenVEX or CycloneDX VEX JSON`,
  );
}

/**
 * Reads and parses a VEX file.
 *
 * @throws EngineError ENG_IMAGE_SOURCE_NOT_FOUND when the file does not exist; ENG_POLICY_INVALID
 *   when it is not a regular file, over 256 MiB, or not a valid VEX document.
 */
export async function readVexFile(path: string): Promise<VexDocument> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new EngineError('ENG_IMAGE_SOURCE_NOT_FOUND', `VEX file ${path} does not exist`);
  if (!info.isFile()) throw new EngineError('ENG_POLICY_INVALID', `${path}: not a regular file`);
  if (info.size > MAX_VEX_BYTES) throw new EngineError('ENG_POLICY_INVALID', `${path}: larger than 256 MiB`);
  return parseVex(await readFile(path), path);
}

/** A finding a VEX statement suppressed, with the statement and its document. */
export interface VexSuppression {
  finding: Finding;
  statement: VexStatement;
  document: { format: VexDocument['format']; id: string; source: string };
}

export interface VexResult {
  kept: Finding[];
  suppressed: VexSuppression[];
}

export interface ApplyVexOptions {
  /** purl of the scanned artifact (imagePurl of a registry image), for image-level products */
  artifactPurl?: string;
}

interface Candidate {
  purl?: ParsedPurl;
  refs: string[];
}

function withoutPackageId(p: ParsedPurl): ParsedPurl {
  if (!('package-id' in p.qualifiers)) return p;
  const { 'package-id': _drop, ...qualifiers } = p.qualifiers;
  return { ...p, qualifiers };
}

type PurlParser = (id: string) => ParsedPurl | undefined;

/** parsePurl with a per-call memo: product ids repeat across findings */
function memoParser(): PurlParser {
  const memo = new Map<string, ParsedPurl | undefined>();
  return (id) => {
    if (memo.has(id)) return memo.get(id);
    const p = parsePurl(id);
    const v = p && withoutPackageId(p);
    memo.set(id, v);
    return v;
  };
}

function idCovers(ids: readonly string[], c: Candidate | undefined, parse: PurlParser): boolean {
  if (!c) return false;
  return ids.some((id) => {
    if (c.refs.includes(id)) return true;
    if (!c.purl) return false;
    const p = parse(id);
    return p !== undefined && purlMatches(p, c.purl);
  });
}

function candidateOf(f: Finding): Candidate {
  const pkg = f.package;
  const refs = [pkg.metadata?.bomRef, pkg.metadata?.spdxId].filter(
    (r): r is string => typeof r === 'string' && r !== '',
  );
  const purl = parsePurl(pkg.purl ?? toPurl(pkg));
  return purl ? { purl, refs } : { refs };
}

function productCovers(
  p: VexProduct,
  pkg: Candidate,
  artifact: Candidate | undefined,
  parse: PurlParser,
): boolean {
  if (p.subcomponents.length === 0) return idCovers(p.ids, pkg, parse) || idCovers(p.ids, artifact, parse);
  return idCovers(p.ids, artifact, parse) && p.subcomponents.some((ids) => idCovers(ids, pkg, parse));
}

function timeOf(s: VexStatement): number {
  const t = s.timestamp ? Date.parse(s.timestamp) : Number.NaN;
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/**
 * Splits `findings` into those kept and those a `not_affected` / `fixed` statement suppresses
 * (rules in the module doc). Pure; `kept` and `suppressed` follow the order of `findings`.
 */
export function applyVex(
  findings: readonly Finding[],
  documents: readonly VexDocument[],
  options: ApplyVexOptions = {},
): VexResult {
  // index statements by upper-cased id; keep input order for ties
  const byId = new Map<string, { statement: VexStatement; doc: VexDocument; order: number }[]>();
  let order = 0;
  for (const doc of documents) {
    for (const statement of doc.statements) {
      const entry = { statement, doc, order: order++ };
      for (const id of new Set(statement.ids.map((x) => x.toUpperCase()))) {
        const bucket = byId.get(id);
        if (bucket) bucket.push(entry);
        else byId.set(id, [entry]);
      }
    }
  }
  const parse = memoParser();
  const artifactPurl = options.artifactPurl ? parsePurl(options.artifactPurl) : undefined;
  const artifact: Candidate | undefined = options.artifactPurl
    ? { refs: [options.artifactPurl], ...(artifactPurl ? { purl: artifactPurl } : {}) }
    : undefined;

  const kept: Finding[] = [];
  const suppressed: VexSuppression[] = [];
  for (const finding of findings) {
    const seen = new Set<number>();
    const candidates: { statement: VexStatement; doc: VexDocument; order: number }[] = [];
    for (const id of [finding.id, ...finding.aliases]) {
      for (const e of byId.get(id.toUpperCase()) ?? []) {
        if (!seen.has(e.order)) {
          seen.add(e.order);
          candidates.push(e);
        }
      }
    }
    let decisive: (typeof candidates)[number] | undefined;
    if (candidates.length > 0) {
      const pkg = candidateOf(finding);
      for (const c of candidates) {
        if (!c.statement.products.some((p) => productCovers(p, pkg, artifact, parse))) continue;
        if (
          !decisive ||
          timeOf(c.statement) > timeOf(decisive.statement) ||
          (timeOf(c.statement) === timeOf(decisive.statement) && c.order > decisive.order)
        ) {
          decisive = c;
        }
      }
    }
    if (decisive && SUPPRESSING_STATUSES.has(decisive.statement.status)) {
      const { format, id, source } = decisive.doc;
      suppressed.push({ finding, statement: decisive.statement, document: { format, id, source } });
    } else {
      kept.push(finding);
    }
  }
  return { kept, suppressed };
}

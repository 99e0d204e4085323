/**
 * Streaming parse of OSV bodies (one OSV JSON record, or an OSV export zip holding one record per
 * entry) and of GitHub advisory API bodies (a REST page: an array of advisories; one advisory;
 * a GraphQL `securityAdvisories` connection).
 */
import { EngineError, throwIfAborted } from '../../errors.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { openBody } from './body.js';
import type { OsvFamily } from './ecosystems.js';
import { parseGhsaAdvisory } from './ghsa-record.js';
import { parseOsvRecord, type OsvParseStats } from './osv-record.js';
import { isObject } from './shape.js';
import { readZip } from './zip.js';

export interface OsvParseOptions {
  signal?: AbortSignal;
  /** counters filled in while parsing (records, malformed, withdrawn, skipped affected entries) */
  stats?: OsvParseStats;
  /** keep only this feed's namespaces (the `osv` feed leaves ubuntu/almalinux/rocky to theirs) */
  family?: OsvFamily;
}

/** The top-level keys of the OSV schema (1.7). */
export const OSV_TOP_LEVEL_KEYS: ReadonlySet<string> = new Set([
  'schema_version',
  'id',
  'modified',
  'published',
  'withdrawn',
  'aliases',
  'related',
  'upstream',
  'summary',
  'details',
  'severity',
  'affected',
  'references',
  'credits',
  'database_specific',
]);

/** Keys one of which every real OSV record has besides `id` (JLSEC records lack `modified`). */
export const OSV_KEYS: readonly string[] = ['modified', 'affected', 'schema_version', 'published'];

/**
 * Top-level keys OSV never uses that mark the other JSON feeds: NVD API 2.0 pages and bare `cve`
 * objects (which also have `id` and `published`), NVD 1.1, KEV, CSAF, CVE JSON 5, GitHub's API.
 */
export const FOREIGN_KEYS: ReadonlySet<string> = new Set([
  'vulnerabilities',
  'cve',
  'sourceIdentifier',
  'vulnStatus',
  'lastModified',
  'descriptions',
  'metrics',
  'document',
  'cveMetadata',
  'dataType',
  'CVE_Items',
  'catalogVersion',
  'ghsa_id',
  'ghsaId',
]);

/** True for a parsed JSON value shaped like an OSV record. */
export function looksLikeOsvRecord(doc: unknown): boolean {
  return (
    isObject(doc) &&
    typeof doc.id === 'string' &&
    OSV_KEYS.some((k) => k in doc) &&
    !Object.keys(doc).some((k) => FOREIGN_KEYS.has(k))
  );
}

/**
 * Yields the records of an OSV body. Zip entries that cannot be read or are not JSON become
 * `malformed` records; a body that is neither a zip nor an OSV JSON object throws ENG_FEED_FORMAT.
 */
export async function* parseOsvBody(
  body: FeedBody,
  options: OsvParseOptions = {},
): AsyncGenerator<FeedRecord> {
  const { signal, stats, family } = options;
  const opened = await openBody(body, { signal });
  if (opened.kind === 'json') {
    const doc = parseJson(opened.text, body.name, 'OSV');
    if (!looksLikeOsvRecord(doc))
      throw new EngineError(
        'ENG_FEED_FORMAT',
        `${body.name}: not an OSV record (no "id" with "modified" or "affected")`,
      );
    yield parseOsvRecord(doc, { stats, family });
    return;
  }
  try {
    for await (const item of readZip(opened.path, { signal })) {
      throwIfAborted(signal);
      if (!item.name.toLowerCase().endsWith('.json')) continue;
      if ('error' in item) {
        yield malformed(stats, `${body.name}: ${item.name}: ${item.error}`, item.name);
        continue;
      }
      let doc: unknown;
      try {
        doc = JSON.parse(item.data.toString('utf8').replace(/^\uFEFF/, ''));
      } catch (e) {
        yield malformed(stats, `${body.name}: ${item.name}: not JSON: ${(e as Error).message}`, item.name);
        continue;
      }
      yield parseOsvRecord(doc, { stats, family });
    }
  } finally {
    await opened.close();
  }
}

/**
 * Yields the records of a GitHub advisory body: a REST page (array), one REST or GraphQL advisory,
 * or a GraphQL answer `{data:{securityAdvisories:{nodes:[…]}}}`. Throws ENG_FEED_FORMAT otherwise.
 */
export async function* parseGhsaBody(
  body: FeedBody,
  options: OsvParseOptions = {},
): AsyncGenerator<FeedRecord> {
  const { signal, stats } = options;
  const opened = await openBody(body, { signal });
  if (opened.kind !== 'json') {
    await opened.close();
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: a zip is not a GitHub advisory API body`);
  }
  const doc = parseJson(opened.text, body.name, 'GitHub advisory');
  let items: unknown[];
  if (Array.isArray(doc)) items = doc;
  else if (isObject(doc) && ('ghsa_id' in doc || 'ghsaId' in doc)) items = [doc];
  else {
    const nodes =
      isObject(doc) && isObject(doc.data) && isObject(doc.data.securityAdvisories)
        ? doc.data.securityAdvisories.nodes
        : undefined;
    if (!Array.isArray(nodes))
      throw new EngineError('ENG_FEED_FORMAT', `${body.name}: not a GitHub advisory list or advisory`);
    items = nodes;
  }
  for (const item of items) {
    throwIfAborted(signal);
    yield parseGhsaAdvisory(item, stats);
  }
}

function parseJson(text: string, name: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EngineError('ENG_FEED_FORMAT', `${name}: not ${what} JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function malformed(stats: OsvParseStats | undefined, message: string, ref: string): FeedRecord {
  if (stats) {
    stats.records++;
    stats.malformed++;
  }
  return { type: 'malformed', message, ref };
}

/**
 * CISA Known Exploited Vulnerabilities catalog (JSON). Format, as published at
 * https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json with its
 * schema https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities_schema.json:
 *
 *   { title, catalogVersion, dateReleased, count,
 *     vulnerabilities: [{ cveID, vendorProject, product, vulnerabilityName, dateAdded,
 *                         shortDescription, requiredAction, dueDate, knownRansomwareCampaignUse,
 *                         notes, cwes }] }
 *
 * One catalog entry object on its own (`{cveID, …}`, as test suites and mirrors keep single
 * entries) is read as a one-entry catalog. The header `count` is not checked against the array
 * (cut-down copies keep the full count). The whole catalog is ≈1,500 entries and ≈1.5 MB, so it is
 * read whole (capped at MAX_KEV_BYTES) rather than stream-parsed.
 */
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { EngineError, throwIfAborted } from '../../errors.js';
import type { KevEntry } from '../../model/vulnerability.js';
import type { FeedBody, FeedRecord } from '../types.js';

/** Cap on a KEV body (the real catalog is ≈1.5 MB; 40× headroom). */
export const MAX_KEV_BYTES = 64 * 1024 * 1024;

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
};

/** Is this file (first bytes, already gunzipped) a KEV catalog or a KEV catalog entry? */
export function detectKev(file: { name: string; head: Buffer }): boolean {
  const head = file.head.toString('utf8').replace(/^\uFEFF/, '');
  if (!/^\s*\{/.test(head)) return false;
  if (/"catalogVersion"\s*:/.test(head) && /"(title|dateReleased|vulnerabilities)"\s*:/.test(head))
    return true;
  return (
    /"cveID"\s*:/.test(head) && /"(vulnerabilityName|dateAdded|knownRansomwareCampaignUse)"\s*:/.test(head)
  );
}

/**
 * Maps one catalog entry. Required: `cveID` (CVE-YYYY-N…) and `dateAdded` (YYYY-MM-DD); a bad or
 * missing `dueDate` is dropped. Strings are trimmed (the catalog has values like `"SimpleHelp "`).
 * @returns a `kev` record, or a `malformed` one naming the entry
 */
export function mapKevEntry(raw: unknown, ref: string): FeedRecord {
  if (!isObj(raw)) return { type: 'malformed', message: 'catalog entry is not an object', ref };
  const cveId = text(raw.cveID);
  if (!cveId || !CVE_ID.test(cveId))
    return { type: 'malformed', message: `cveID ${JSON.stringify(raw.cveID ?? null)} is not a CVE id`, ref };
  const dateAdded = text(raw.dateAdded);
  if (!dateAdded || !DATE.test(dateAdded))
    return {
      type: 'malformed',
      message: `dateAdded ${JSON.stringify(raw.dateAdded ?? null)} is not a YYYY-MM-DD date`,
      ref: cveId,
    };
  const entry: KevEntry = { cveId, dateAdded };
  const dueDate = text(raw.dueDate);
  if (dueDate && DATE.test(dueDate)) entry.dueDate = dueDate;
  const ransomware = text(raw.knownRansomwareCampaignUse);
  if (ransomware) entry.knownRansomwareCampaignUse = ransomware;
  const vendorProject = text(raw.vendorProject);
  if (vendorProject) entry.vendorProject = vendorProject;
  const product = text(raw.product);
  if (product) entry.product = product;
  const name = text(raw.vulnerabilityName);
  if (name) entry.name = name;
  return { type: 'kev', entry };
}

async function readBody(src: Readable, name: string, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of src as AsyncIterable<Buffer>) {
    throwIfAborted(signal);
    size += chunk.length;
    if (size > MAX_KEV_BYTES) {
      src.destroy();
      throw new EngineError('ENG_FEED_TOO_LARGE', `${name}: KEV body exceeds ${MAX_KEV_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_KEV_BYTES });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE')
      throw new EngineError('ENG_FEED_TOO_LARGE', `${name}: KEV body exceeds ${MAX_KEV_BYTES} bytes`, {
        cause: e,
      });
    throw new EngineError('ENG_FEED_FORMAT', `${name}: gzip: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Parses a KEV body (plain or gzip), yielding a `kev` record per entry and `malformed` for an entry
 * without a valid cveID / dateAdded.
 * @throws EngineError ENG_FEED_FORMAT when the body is not JSON, or neither a catalog (an object with
 *   a `vulnerabilities` array) nor a single entry; ENG_FEED_TOO_LARGE past MAX_KEV_BYTES;
 *   ENG_ABORTED on `signal`
 */
export async function* parseKevBody(
  body: FeedBody,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<FeedRecord> {
  const { signal } = options;
  throwIfAborted(signal);
  const raw = await readBody(await body.open(signal), body.name, signal);
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (isObj(doc) && Array.isArray(doc.vulnerabilities)) {
    const list = doc.vulnerabilities as unknown[];
    for (let i = 0; i < list.length; i++) {
      if (i % 256 === 0) throwIfAborted(signal);
      yield mapKevEntry(list[i], `vulnerabilities[${i}]`);
    }
    return;
  }
  if (isObj(doc) && 'cveID' in doc) {
    yield mapKevEntry(doc, 'entry');
    return;
  }
  throw new EngineError(
    'ENG_FEED_FORMAT',
    `${body.name}: not a CISA KEV catalog (no "vulnerabilities" array, no "cveID")`,
  );
}

/**
 * Streaming parse of NVD CVE API 2.0 bodies (https://nvd.nist.gov/developers/vulnerabilities),
 * plain or gzip, in three layouts:
 * - an API response page `{resultsPerPage, startIndex, totalResults, format: "NVD_CVE",
 *   version: "2.0", timestamp, vulnerabilities: [{cve: {...}}]}` (also the 2.0 data feeds);
 * - one `{cve: {...}}` element on its own (grype test records);
 * - a bare `cve` object (the vuln-list-nvd / fkie-cad one-file-per-CVE layouts).
 * A page's `vulnerabilities` array is streamed element by element (see json-scan.ts); the other
 * layouts hold one CVE and are capped at MAX_MEMBER_BYTES per top-level member.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { EngineError, throwIfAborted } from '../../errors.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { scanTopLevel } from './json-scan.js';
import { mapCve } from './map-cve.js';

/** Cap on one CVE element (the largest real ones, with thousands of CPE matches, are a few MB). */
export const MAX_ELEMENT_BYTES = 64 * 1024 * 1024;
/** Cap on any other top-level member (envelope scalars, or the single cve object). */
export const MAX_MEMBER_BYTES = 64 * 1024 * 1024;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body's bytes, gunzipped when they start with the gzip magic; zlib failures → ENG_FEED_FORMAT. */
async function* bytes(src: Readable, name: string): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    return;
  }
  const rest = async function* () {
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  };
  const gunzip = createGunzip();
  // pipeline owns the error handling of both streams; a failure surfaces in the loop below
  const piped = pipeline(Readable.from(rest()), gunzip).catch(() => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw new EngineError('ENG_FEED_FORMAT', `${name}: gzip: ${(e as Error).message}`, { cause: e });
    throw e;
  } finally {
    gunzip.destroy();
    await piped;
  }
}

/** Does this look like a cve object (bare layout): an id and at least one NVD-only member? */
function looksLikeCve(fields: Map<string, unknown>): boolean {
  return typeof fields.get('id') === 'string' && (fields.has('sourceIdentifier') || fields.has('vulnStatus'));
}

function checkFormat(fields: Map<string, unknown>, name: string): void {
  const format = fields.get('format');
  if (format !== undefined && format !== 'NVD_CVE')
    throw new EngineError('ENG_FEED_FORMAT', `${name}: format ${JSON.stringify(format)} is not NVD_CVE`);
}

/**
 * Parses one body, yielding a record per CVE: `vulnerability` (affected: []), `withdrawn`
 * (rejected CVEs) or `malformed` (an element that is not valid JSON or not a well-typed cve;
 * counted, parsing goes on). Throws ENG_FEED_FORMAT when the body is none of the layouts above
 * (another NVD API such as NVD_CVEHistory, not JSON, truncated or damaged between elements; the
 * records yielded before the damage are valid), ENG_ABORTED on `signal`.
 */
export async function* parseNvdBody(
  body: FeedBody,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<FeedRecord> {
  const { signal } = options;
  const src = await body.open(signal);
  try {
    const fields = new Map<string, unknown>();
    let page = false;
    const events = scanTopLevel(bytes(src, body.name), {
      arrayKey: 'vulnerabilities',
      maxElementBytes: MAX_ELEMENT_BYTES,
      maxFieldBytes: MAX_MEMBER_BYTES,
      name: body.name,
    });
    for await (const e of events) {
      throwIfAborted(signal);
      if (e.kind === 'field') fields.set(e.key, e.value);
      else if (e.kind === 'array-start') {
        checkFormat(fields, body.name);
        page = true;
      } else {
        const where = `vulnerabilities[${e.index}]`;
        if (e.tooLarge) {
          yield { type: 'malformed', message: `${where} exceeds ${MAX_ELEMENT_BYTES} bytes` };
          continue;
        }
        let item: unknown;
        try {
          item = JSON.parse(e.raw!);
        } catch (err) {
          yield { type: 'malformed', message: `${where} is not valid JSON: ${(err as Error).message}` };
          continue;
        }
        if (!isObj(item) || !isObj(item.cve))
          yield { type: 'malformed', message: `${where} is not a {"cve": {...}} object` };
        else yield mapCve(item.cve, `${where}.cve`);
      }
    }
    checkFormat(fields, body.name);
    if (page) return;
    if (fields.has('vulnerabilities'))
      throw new EngineError('ENG_FEED_FORMAT', `${body.name}: "vulnerabilities" is not an array`);
    if (isObj(fields.get('cve'))) yield mapCve(fields.get('cve'), 'cve');
    else if (looksLikeCve(fields)) yield mapCve(Object.fromEntries(fields), 'cve');
    else throw new EngineError('ENG_FEED_FORMAT', `${body.name}: not an NVD CVE API 2.0 page or cve object`);
  } finally {
    src.destroy();
  }
}

const HEAD_PAGE = /"format"\s*:\s*"NVD_CVE"/;
const HEAD_FORMAT = /"format"\s*:\s*"/;
const HEAD_CVE_ID = /"id"\s*:\s*"CVE-\d{4}-\d+"/;
const HEAD_SOURCE = /"sourceIdentifier"\s*:/;

/**
 * Content sniffing for `db build --from`: `head` is the file's first bytes (gunzipped). True for
 * an NVD_CVE page, and for a (wrapped or bare) cve object: a CVE id beside NVD's
 * `sourceIdentifier`. False for the other NVD APIs (NVD_CVEHistory, NVD_CPEMatchString, …).
 */
export function detectNvd(file: { name: string; head: Buffer }): boolean {
  const text = file.head.subarray(0, 64 * 1024).toString('utf8');
  if (HEAD_PAGE.test(text)) return true;
  if (HEAD_FORMAT.test(text)) return false;
  return HEAD_CVE_ID.test(text) && HEAD_SOURCE.test(text);
}

/** What the fetcher needs from an archived page: its envelope and how many CVEs it holds. */
export interface PageSummary {
  totalResults: number;
  startIndex?: number;
  count: number;
}

/**
 * Reads a downloaded API page's envelope without keeping any CVE in memory. Throws
 * ENG_FEED_FORMAT unless it is an NVD_CVE page with a numeric `totalResults` and a
 * `vulnerabilities` array.
 */
export async function readPageSummary(body: FeedBody, signal?: AbortSignal): Promise<PageSummary> {
  const src = await body.open(signal);
  try {
    const fields = new Map<string, unknown>();
    let count = 0;
    let page = false;
    // a zero element cap: elements are counted, never buffered
    const events = scanTopLevel(bytes(src, body.name), {
      arrayKey: 'vulnerabilities',
      maxElementBytes: 0,
      maxFieldBytes: 1024 * 1024,
      name: body.name,
    });
    for await (const e of events) {
      if (e.kind === 'field') fields.set(e.key, e.value);
      else if (e.kind === 'array-start') page = true;
      else count++;
    }
    const total = fields.get('totalResults');
    if (!page || fields.get('format') !== 'NVD_CVE' || typeof total !== 'number' || !(total >= 0))
      throw new EngineError(
        'ENG_FEED_FORMAT',
        `${body.name}: not an NVD CVE API 2.0 page (format NVD_CVE, totalResults, vulnerabilities[])`,
      );
    const startIndex = fields.get('startIndex');
    return typeof startIndex === 'number'
      ? { totalResults: total, startIndex, count }
      : { totalResults: total, count };
  } finally {
    src.destroy();
  }
}

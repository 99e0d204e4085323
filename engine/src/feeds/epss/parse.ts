/**
 * FIRST EPSS daily scores (https://www.first.org/epss/data_stats), a gzipped CSV:
 *
 *   #model_version:v2023.03.01,score_date:2024-10-25T00:00:00+0000
 *   cve,epss,percentile
 *   CVE-1999-0005,0.91963,0.99030
 *
 * The comment line carries the model version and the score date; the header names the columns
 * (matched by name, any order); each data line is one CVE's exploitation probability and its
 * percentile, both in [0, 1].
 *
 * The score date: from `score_date` in the comment line; when the comment lacks it, from the file
 * name if it is FIRST's dated name (`epss_scores-YYYY-MM-DD.csv[.gz]`, the daily archive files);
 * otherwise the body is rejected (ENG_FEED_FORMAT). HTTP Last-Modified is deliberately not used: it
 * is when a server (or a mirror) stored the file, not the day the scores are for, and an EPSS score
 * with a wrong date is worse than none.
 */
import { throwIfAborted, EngineError } from '../../errors.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { lines } from './lines.js';

/** Cap on a downloaded EPSS file (the real gzip is a few MB; parsing itself streams). */
export const MAX_EPSS_BYTES = 256 * 1024 * 1024;

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const PROBABILITY = /^(?:0(?:\.\d+)?|1(?:\.0+)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const DATE_PREFIX = /^(\d{4}-\d{2}-\d{2})(?:$|T)/;
const DATED_NAME = /epss_scores-(\d{4}-\d{2}-\d{2})\.csv(?:\.gz)?$/;

/** The `key:value` pairs of a `#model_version:…,score_date:…` comment line. */
export function parseEpssComment(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of line.replace(/^#/, '').split(',')) {
    const colon = part.indexOf(':');
    if (colon > 0) out[part.slice(0, colon).trim()] = part.slice(colon + 1).trim();
  }
  return out;
}

/** Is this file (first bytes, already gunzipped) an EPSS score CSV? */
export function detectEpss(file: { name: string; head: Buffer }): boolean {
  const head = file.head.toString('utf8').replace(/^\uFEFF/, '');
  return /^#model_version:/.test(head) || /^(?:#[^\n]*\n)*cve,epss,percentile\r?(?:\n|$)/i.test(head);
}

function probability(raw: string | undefined): number | undefined {
  const t = raw?.trim();
  if (!t || !PROBABILITY.test(t)) return undefined;
  const n = Number(t);
  return n >= 0 && n <= 1 ? n : undefined;
}

/**
 * Parses an EPSS body (plain or gzip) line by line, yielding an `epss` record per CVE and a
 * `malformed` record (ref `line N`) for a line without a CVE id or with a score outside [0, 1].
 * @throws EngineError ENG_FEED_FORMAT when the header is not `cve,epss,percentile` (in any order),
 *   when no score date can be found (see above), or for a broken gzip or an overlong line;
 *   ENG_ABORTED on `signal`
 */
export async function* parseEpssBody(
  body: FeedBody,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<FeedRecord> {
  const { signal } = options;
  throwIfAborted(signal);
  let date: string | undefined;
  let columns: { cve: number; epss: number; percentile: number; count: number } | undefined;
  let n = 0;
  for await (const line of lines(await body.open(signal), body.name)) {
    n++;
    if (n % 1024 === 0) throwIfAborted(signal);
    if (line.trim() === '') continue;
    if (!columns) {
      if (line.startsWith('#')) {
        const scoreDate = parseEpssComment(line).score_date;
        const m = scoreDate ? DATE_PREFIX.exec(scoreDate) : null;
        if (m) date = m[1];
        continue;
      }
      const names = line.split(',').map((c) => c.trim().toLowerCase());
      const [cve, epss, percentile] = [
        names.indexOf('cve'),
        names.indexOf('epss'),
        names.indexOf('percentile'),
      ];
      if (cve < 0 || epss < 0 || percentile < 0)
        throw new EngineError(
          'ENG_FEED_FORMAT',
          `${body.name}: line ${n}: header ${JSON.stringify(line.slice(0, 80))} is not cve,epss,percentile`,
        );
      date ??= DATED_NAME.exec(body.name)?.[1];
      if (!date)
        throw new EngineError(
          'ENG_FEED_FORMAT',
          `${body.name}: no score_date in the #model_version comment line, and the file name is not epss_scores-YYYY-MM-DD.csv`,
        );
      columns = { cve, epss, percentile, count: names.length };
      continue;
    }
    const fields = line.split(',');
    const ref = `line ${n}`;
    const cveId = fields[columns.cve]?.trim() ?? '';
    if (fields.length !== columns.count) {
      yield { type: 'malformed', message: `${fields.length} fields, the header has ${columns.count}`, ref };
      continue;
    }
    if (!CVE_ID.test(cveId)) {
      yield { type: 'malformed', message: `${JSON.stringify(cveId.slice(0, 40))} is not a CVE id`, ref };
      continue;
    }
    const score = probability(fields[columns.epss]);
    const percentile = probability(fields[columns.percentile]);
    if (score === undefined || percentile === undefined) {
      yield { type: 'malformed', message: `${cveId}: epss or percentile is not a number in [0, 1]`, ref };
      continue;
    }
    yield { type: 'epss', entry: { cveId, score, percentile, date: date! } };
  }
  if (!columns) throw new EngineError('ENG_FEED_FORMAT', `${body.name}: no cve,epss,percentile header`);
}

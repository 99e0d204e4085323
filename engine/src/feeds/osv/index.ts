/**
 * The OSV-format feeds, sharing one OSV parser (osv-record.ts):
 * - `osv`: language ecosystems (npm, PyPI, Go, Maven, RubyGems, crates.io, Packagist, NuGet) from
 *   the OSV export, which includes GitHub's reviewed advisories, PyPA, Go and RustSec records;
 * - `ghsa`: GitHub's advisory REST API with a token (fresher GitHub advisories, delta updates);
 * - `ubuntu`, `almalinux`, `rocky`: the distros' OSV exports (Ubuntu CVE records with priorities
 *   and USNs, ALSA, RLSA).
 * Each feed keeps only its own namespaces (ecosystems.ts familyOfNamespace) and claims its own
 * files offline (detect.ts states the rule). Feeds fail as a whole on a broken body (`onError:
 * 'fail'`): `osv` bodies are full replacements and `ghsa` moves a checkpoint, so skipping a body
 * would drop or lose data; the previous snapshot data stays in use instead.
 */
import type { Feed, FeedBody, FeedRecord, FetchContext } from '../types.js';
import { detectGhsaApi, detectOsvFamily } from './detect.js';
import { LANGUAGE_ECOSYSTEMS, type OsvFamily } from './ecosystems.js';
import { fetchGhsaAdvisories } from './fetch-ghsa.js';
import { fetchOsvExports } from './fetch-osv.js';
import { parseGhsaBody, parseOsvBody, type OsvParseOptions } from './parse.js';

export { newOsvParseStats, parseOsvRecord, databaseOf, type OsvParseStats } from './osv-record.js';
export { parseGhsaAdvisory } from './ghsa-record.js';
export { ghsaRangeToEvents, type GhsaRangeResult } from './ghsa-range.js';
export { mapOsvEcosystem, normalizePypiName, LANGUAGE_ECOSYSTEMS, type OsvFamily } from './ecosystems.js';
export { detectOsvFamily, detectGhsaApi } from './detect.js';
export { parseOsvBody, parseGhsaBody, type OsvParseOptions } from './parse.js';
export { DEFAULT_OSV_BASE_URL } from './fetch-osv.js';
export { DEFAULT_GITHUB_API_URL } from './fetch-ghsa.js';

/** A feed of the OSV family whose `parse` also takes `stats` (counts of skipped affected entries). */
export interface OsvFamilyFeed extends Feed {
  parse(body: FeedBody, options?: OsvParseOptions): AsyncIterable<FeedRecord>;
}

function osvFamilyFeed(name: OsvFamily, description: string, ecosystems: readonly string[]): OsvFamilyFeed {
  return {
    name,
    version: 1,
    description,
    onError: 'fail',
    detect: ({ head }) => detectOsvFamily(head) === name,
    fetch: (ctx: FetchContext) => fetchOsvExports(ctx, { feed: name, ecosystems }),
    parse: (body, options) => parseOsvBody(body, { ...options, family: name }),
  };
}

/** Language ecosystems from the OSV export (GitHub-reviewed, PyPA, Go, RustSec… advisories). */
export const osvFeed = osvFamilyFeed(
  'osv',
  'OSV export of the language ecosystems (includes the GitHub advisory database)',
  LANGUAGE_ECOSYSTEMS,
);

/** Ubuntu CVE records and USNs from the OSV export; namespaces `ubuntu:<YY.MM>`. */
export const ubuntuFeed = osvFamilyFeed(
  'ubuntu',
  'Ubuntu security data (OSV export: CVE records with priorities, USNs)',
  ['Ubuntu'],
);

/** AlmaLinux advisories (ALSA) from the OSV export; namespaces `almalinux:<major>`. */
export const almaFeed = osvFamilyFeed('almalinux', 'AlmaLinux advisories (OSV export)', ['AlmaLinux']);

/** Rocky Linux advisories (RLSA) from the OSV export; namespaces `rocky:<major>`. */
export const rockyFeed = osvFamilyFeed('rocky', 'Rocky Linux advisories (OSV export)', ['Rocky Linux']);

/** GitHub's reviewed advisories through the REST API (needs GITHUB_TOKEN; without one: unchanged). */
export const ghsaFeed: OsvFamilyFeed = {
  name: 'ghsa',
  version: 1,
  description: "GitHub's reviewed security advisories (REST API, token required)",
  onError: 'fail',
  detect: ({ head }) => detectGhsaApi(head),
  fetch: fetchGhsaAdvisories,
  parse: (body, options) => parseGhsaBody(body, options),
};

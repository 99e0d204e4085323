/**
 * Matching: an inventory against the vulnerability database → findings (one per vulnerability per
 * package, with aliases, status, fixed version, severity, KEV, EPSS), the fix plan and warnings.
 * Matchers are an explicit list (list.ts); the core (match.ts) batches their lookups.
 */
export { matchInventory, type MatchOptions } from './match.js';
export { MATCHERS, MATCHER_NAMES } from './list.js';
export {
  MATCH_WARNING_CODES,
  SUPPORTED_OS_FAMILIES,
  resolveOsTarget,
  type MatchWarningCode,
} from './os-target.js';
export { EOL_DATES, eolOf, type EolEntry } from './eol.js';
export { decideRow, fixFor } from './decide.js';
export { languageMatcher } from './language.js';
export type { Matcher, MatchEnv, DistroTarget, LookupKey, RowVerdict } from './types.js';

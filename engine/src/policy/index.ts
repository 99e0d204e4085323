/**
 * CI policy over findings: ignore files, VEX, severity / unfixed filters, the exit decision and
 * the report orders. Typical order: applyIgnoreFile → applyVex → evaluateGate → sortFindings.
 */
export {
  parseIgnoreFile,
  readIgnoreFile,
  applyIgnoreFile,
  type IgnoreEntry,
  type IgnoredFinding,
  type IgnoreResult,
  type ParseIgnoreOptions,
} from './ignore-file.js';
export {
  parseVex,
  readVexFile,
  applyVex,
  VEX_STATUSES,
  SUPPRESSING_STATUSES,
  type ApplyVexOptions,
  type VexDocument,
  type VexProduct,
  type VexResult,
  type VexStatement,
  type VexStatus,
  type VexSuppression,
} from './vex.js';
export {
  evaluateGate,
  filterFindings,
  parseSeverities,
  sortFindings,
  SORT_ORDERS,
  UNFIXED_STATES,
  type GateOptions,
  type GateResult,
  type SortOrder,
} from './gate.js';
export { parsePurl, purlMatches, type ParsedPurl } from './purl-match.js';

/**
 * CVSS scoring (v2.0, v3.0, v3.1, v4.0) and the severity policy (ARCHITECTURE §2).
 */
export { scoreCvss, type CvssScore } from './score.js';
export { severityFromScore } from './severity.js';
export { splitCvssVector, BASE_METRICS, type CvssVectorParts } from './vector.js';
export {
  pickSeverity,
  type PickSeverityOptions,
  type SeverityChoice,
  type SeverityRecord,
} from './severity-policy.js';

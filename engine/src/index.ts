/**
 * @vigil/engine public API. Everything exported here is a contract (ARCHITECTURE §5). The same
 * exports are split in two entry points for callers that care about start-up time: `./core`
 * (scanning, reports, policy, versions) and `./db` (vulnerability database, matching, CVSS).
 */
export * from './core.js';
export * from './db.js';

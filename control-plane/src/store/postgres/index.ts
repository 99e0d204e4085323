/**
 * Postgres metadata stores: the driver seam (sql.ts), migrations (migrate.ts + migrations/NNNN_*.sql) and one
 * file per operation family. `pgStores(db)` is what the composition root hands to services.
 */
import type { MetadataStores } from '../../services/types.js';
import { pgAuditStore } from './audit.js';
import { pgImageStore } from './images.js';
import { pgOrgStore } from './orgs-users-tokens.js';
import { pgScanOutboxStore } from './scan-outbox.js';
import { pgScanStore } from './scans.js';
import type { SqlDatabase } from './sql.js';

/** Every metadata store over one database (the schema must be migrated first, see {@link migrate}). */
export function pgStores(db: SqlDatabase): MetadataStores {
  return {
    orgs: pgOrgStore(db),
    images: pgImageStore(db),
    scans: pgScanStore(db),
    audit: pgAuditStore(db),
    outbox: pgScanOutboxStore(db),
  };
}

export { pgAuditStore } from './audit.js';
export { pgImageStore } from './images.js';
export {
  loadMigrations,
  migrate,
  MIGRATIONS_DIR,
  type Migration,
  type MigrateOptions,
  type MigrateResult,
} from './migrate.js';
export { pgOrgStore } from './orgs-users-tokens.js';
export { pgScanOutboxStore } from './scan-outbox.js';
export { pgScanStore } from './scans.js';
export {
  classifyDriverError,
  createPgDatabase,
  pgDatabase,
  type PgDatabaseOptions,
  type SqlClient,
  type SqlDatabase,
  type SqlResult,
} from './sql.js';

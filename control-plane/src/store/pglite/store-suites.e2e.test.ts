/**
 * The Postgres store suites, run again on PGlite: the same test files, with their scratch database swapped for
 * a migrated in-memory PGlite. (migrate.e2e.test.ts is not among them: it needs several connections and a
 * second pg client holding the advisory lock; pglite.e2e.test.ts covers migrations on PGlite.)
 */
import { vi } from 'vitest';

vi.mock('../postgres/testdata/scratch-database.js', () => import('./testdata/pglite-scratch.js'));

await import('../postgres/orgs-users-tokens.e2e.test.js');
await import('../postgres/images.e2e.test.js');
await import('../postgres/scans.e2e.test.js');
await import('../postgres/scan-batches.e2e.test.js');
await import('../postgres/audit.e2e.test.js');
await import('../postgres/tenant-isolation.e2e.test.js');

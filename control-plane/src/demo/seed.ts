/**
 * First start of the all-in-one server: the admin account (VIGIL_ADMIN_* or a generated password, shown once)
 * in its organisation, and scans of the demo images through the normal path (ScanService.requestScan → queue →
 * worker → WorkerService). Idempotent: a later start finds the account and the images' scans and creates
 * nothing (an image whose scan was never recorded, e.g. after a crash mid-seed, is requested again).
 */
import { randomBytes } from 'node:crypto';
import { bootstrapAdmin } from '../auth/bootstrap.js';
import type { AdminConfig } from '../config.js';
import type { ScanService } from '../services/api.js';
import type { MetadataStores, OrgRecord } from '../services/types.js';
import type { SqlClient } from '../store/postgres/sql.js';
import type { DemoImage } from './images.js';

export interface SeedResult {
  org: OrgRecord;
  email: string;
  /** the generated password when this start created the account with one; null otherwise (never shown again) */
  generatedPassword: string | null;
  /** whether this start created the account */
  createdAdmin: boolean;
  /** scans requested by this start (0 on a restart) */
  scansRequested: number;
}

export interface SeedDeps {
  stores: MetadataStores;
  db: SqlClient;
  scans: ScanService;
}

const SYSTEM = { type: 'system', id: null } as const;

/** Creates the admin (unless it exists) and requests a scan of every demo image that has none. */
export async function seedDemo(
  deps: SeedDeps,
  admin: AdminConfig,
  images: readonly DemoImage[],
): Promise<SeedResult> {
  const generated = admin.password === null ? randomBytes(15).toString('base64url') : null;
  const { created, org } = await bootstrapAdmin(
    { orgs: deps.stores.orgs, audit: deps.stores.audit, db: deps.db },
    {
      email: admin.email,
      password: admin.password ?? generated!,
      orgSlug: admin.org,
      orgName: admin.org === 'demo' ? 'Demo' : admin.org,
    },
  );
  let scansRequested = 0;
  for (const image of images) {
    const { items } = await deps.stores.images.listImages(org.id, { text: image.repository, limit: 1000 });
    const known = items.find((i) => i.repository === image.repository && i.digest === image.digest);
    if (known?.lastScanId) continue;
    await deps.scans.requestScan(
      org.id,
      { target: { reference: `${image.repository}:${image.tag}` }, priority: 'manual' },
      SYSTEM,
    );
    scansRequested++;
  }
  return {
    org,
    email: admin.email,
    generatedPassword: created ? generated : null,
    createdAdmin: created,
    scansRequested,
  };
}

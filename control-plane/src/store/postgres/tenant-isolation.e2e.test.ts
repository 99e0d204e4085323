import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BatchRecord,
  ImageRecord,
  MetadataStores,
  ScanRecord,
  TokenRecord,
  UserRecord,
} from '../../services/types.js';
import { generateApiToken } from '../credentials.js';
import { pgStores } from './index.js';
import type { SqlDatabase } from './sql.js';
import { createMigratedDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

/** Everything one tenant owns, one row per family. Both tenants scan the SAME image content. */
interface Tenant {
  org: string;
  user: UserRecord;
  token: TokenRecord;
  tokenHash: string;
  image: ImageRecord;
  scan: ScanRecord;
  batch: BatchRecord;
}

let scratch: ScratchDatabase;
let db: SqlDatabase;
let s: MetadataStores;
let a: Tenant;
let b: Tenant;
const sharedDigest = `sha256:${createHash('sha256').update('same content').digest('hex')}`;

async function tenant(slug: string): Promise<Tenant> {
  const org = (await s.orgs.createOrg({ slug, name: slug })).id;
  const user = await s.orgs.createUser(org, { email: `admin@${slug}.test`, role: 'admin' });
  const secret = generateApiToken();
  const token = await s.orgs.createToken(org, {
    name: 'ci',
    scopes: ['ci'],
    hash: secret.hash,
    prefix: secret.prefix,
    createdBy: user.id,
  });
  const image = (
    await s.images.upsertImage(org, { repository: 'shared/app', digest: sharedDigest, tags: ['1.0'] })
  ).image;
  const batch = await s.scans.createBatch(org, {
    imageIds: [image.id],
    dbVersion: 'db-1',
    priority: 'scheduled',
  });
  const scan = (await s.scans.getScan(org, (await s.scans.listQueuedScans(org, batch.id))[0]!.id))!;
  await s.audit.appendAudit(org, {
    actor: { type: 'user', id: user.id },
    action: 'token.create',
    target: { type: 'token', id: token.id },
  });
  return { org, user, token, tokenHash: secret.hash, image, scan, batch };
}

beforeAll(async () => {
  ({ scratch, db } = await createMigratedDatabase());
  s = pgStores(db);
  a = await tenant('tenant-a');
  b = await tenant('tenant-b');
});
afterAll(() => scratch?.drop());

const code = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: { code: string }) => e.code,
  );

describe('tenant isolation: org A never sees or changes org B rows', () => {
  it('orgs, users and tokens', async () => {
    expect({
      getUser: await s.orgs.getUser(a.org, b.user.id),
      listUsers: (await s.orgs.listUsers(a.org)).map((u) => u.id),
      setUserRole: await code(s.orgs.setUserRole(a.org, b.user.id, 'viewer')),
      setPasswordHash: await code(s.orgs.setPasswordHash(a.org, b.user.id, null)),
      createTokenForForeignUser: await code(
        s.orgs.createToken(a.org, {
          name: 'x',
          scopes: ['read'],
          hash: generateApiToken().hash,
          prefix: 'vgl_x',
          createdBy: b.user.id,
        }),
      ),
      listTokens: (await s.orgs.listTokens(a.org)).map((t) => t.id),
      revokeToken: await code(s.orgs.revokeToken(a.org, b.token.id)),
      // authentication establishes the org: B's token is B's, and still live
      verifyB: (await s.orgs.verifyToken(b.tokenHash))?.org.id,
      bUserRole: (await s.orgs.getUser(b.org, b.user.id))?.role,
    }).toEqual({
      getUser: null,
      listUsers: [a.user.id],
      setUserRole: 'CP_NOT_FOUND',
      setPasswordHash: 'CP_NOT_FOUND',
      createTokenForForeignUser: 'CP_NOT_FOUND',
      listTokens: [a.token.id],
      revokeToken: 'CP_NOT_FOUND',
      verifyB: b.org,
      bUserRole: 'admin',
    });
  });

  it('images', async () => {
    expect({
      sameContentTwoRows: a.image.id !== b.image.id && a.image.digest === b.image.digest,
      getImage: await s.images.getImage(a.org, b.image.id),
      list: (await s.images.listImages(a.org)).items.map((i) => i.id),
      listByText: (await s.images.listImages(a.org, { text: 'shared' })).items.map((i) => i.id),
      listByForeignRepository: (await s.images.listImages(a.org, { repositoryId: b.image.repositoryId }))
        .items,
      listByLastScan: (await s.images.listImages(a.org, { sort: 'lastScan' })).items.map((i) => i.id),
    }).toEqual({
      sameContentTwoRows: true,
      getImage: null,
      list: [a.image.id],
      listByText: [a.image.id],
      listByForeignRepository: [],
      listByLastScan: [a.image.id],
    });
  });

  it('scans and batches', async () => {
    const unchangedB = await s.scans.getScan(b.org, b.scan.id);
    const result = {
      createScanOfForeignImage: await code(
        s.scans.createScan(a.org, { imageId: b.image.id, dbVersion: 'db-2', priority: 'manual' }),
      ),
      getScan: await s.scans.getScan(a.org, b.scan.id),
      transition: await code(s.scans.transitionScan(a.org, b.scan.id, { to: 'running' })),
      cancel: await code(s.scans.cancelScan(a.org, b.scan.id)),
      batchByForeignIds: await s.scans
        .createBatch(a.org, { imageIds: [b.image.id], dbVersion: 'db-3', priority: 'manual' })
        .then((x) => [x.matched, x.total]),
      batchByForeignRepository: await s.scans
        .createBatch(a.org, {
          filter: { repositoryId: b.image.repositoryId },
          dbVersion: 'db-3',
          priority: 'manual',
        })
        .then((x) => [x.matched, x.total]),
      getBatch: await s.scans.getBatch(a.org, b.batch.id),
      listQueued: await code(s.scans.listQueuedScans(a.org, b.batch.id)),
      cancelBatch: await code(s.scans.cancelBatch(a.org, b.batch.id)),
    };
    // A completes its scan of the shared content: B's image does not get A's result
    const running = await s.scans.transitionScan(a.org, a.scan.id, { to: 'running' });
    await s.scans.transitionScan(a.org, a.scan.id, { to: 'completed', attempt: running.attempt });
    expect({
      ...result,
      bScanUntouched:
        (await s.scans.getScan(b.org, b.scan.id))?.updatedAt.getTime() === unchangedB?.updatedAt.getTime(),
      bBatchCounts: (await s.scans.getBatch(b.org, b.batch.id))?.counts.queued,
      bImageLastCompleted: (await s.images.getImage(b.org, b.image.id))?.lastCompletedScanId,
      aImageLastCompleted: (await s.images.getImage(a.org, a.image.id))?.lastCompletedScanId,
    }).toEqual({
      createScanOfForeignImage: 'CP_NOT_FOUND',
      getScan: null,
      transition: 'CP_NOT_FOUND',
      cancel: 'CP_NOT_FOUND',
      batchByForeignIds: [0, 0],
      batchByForeignRepository: [0, 0],
      getBatch: null,
      listQueued: 'CP_NOT_FOUND',
      cancelBatch: 'CP_NOT_FOUND',
      bScanUntouched: true,
      bBatchCounts: 1,
      bImageLastCompleted: null,
      aImageLastCompleted: a.scan.id,
    });
  });

  it('audit log', async () => {
    const listed = (await s.audit.listAudit(a.org)).items;
    expect(listed.map((e) => [e.orgId, e.target?.id])).toEqual([[a.org, a.token.id]]);
  });

  it('the schema itself refuses rows that point at another tenant (composite foreign keys)', async () => {
    const attempts = {
      imageInForeignRepository: db.query(
        `INSERT INTO images (org_id, repository_id, name, digest) VALUES ($1, $2, 'x', 'sha256:00')`,
        [a.org, b.image.repositoryId],
      ),
      scanOfForeignImage: db.query(
        `INSERT INTO scans (org_id, image_id, digest, priority, db_version) VALUES ($1, $2, 'sha256:00', 'ci', 'v')`,
        [a.org, b.image.id],
      ),
      scanInForeignBatch: db.query(
        `INSERT INTO scans (org_id, image_id, digest, batch_id, priority, db_version) VALUES ($1, $2, 'sha256:00', $3, 'ci', 'v')`,
        [a.org, a.image.id, b.batch.id],
      ),
      imagePointingAtForeignScan: db.query('UPDATE images SET last_completed_scan_id = $2 WHERE id = $1', [
        a.image.id,
        b.scan.id,
      ]),
      tokenOfForeignUser: db.query(
        `INSERT INTO api_tokens (org_id, name, token_hash, token_prefix, scopes, created_by) VALUES ($1, 'x', $2, 'vgl_', '{read}', $3)`,
        [a.org, 'a'.repeat(64), b.user.id],
      ),
    };
    const codes = Object.fromEntries(
      await Promise.all(Object.entries(attempts).map(async ([k, p]) => [k, await code(p)])),
    );
    expect(codes).toEqual({
      imageInForeignRepository: 'CP_NOT_FOUND',
      scanOfForeignImage: 'CP_NOT_FOUND',
      scanInForeignBatch: 'CP_NOT_FOUND',
      imagePointingAtForeignScan: 'CP_NOT_FOUND',
      tokenOfForeignUser: 'CP_NOT_FOUND',
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, MetadataStores } from '../../services/types.js';
import { pgStores } from './index.js';
import { createMigratedDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

let scratch: ScratchDatabase;
let stores: MetadataStores;
let org: string;

beforeAll(async () => {
  const created = await createMigratedDatabase();
  scratch = created.scratch;
  stores = pgStores(created.db);
  org = (await stores.orgs.createOrg({ slug: 'audit', name: 'Audit' })).id;
});
afterAll(() => scratch?.drop());

describe('audit log', () => {
  it('appends entries and lists them newest first, page by page, optionally by action', async () => {
    const admin = { type: 'user' as const, id: '11111111-1111-4111-8111-111111111111' };
    const first = await stores.audit.appendAudit(org, {
      actor: admin,
      action: 'user.create',
      target: { type: 'user', id: 'u1' },
      details: { role: 'viewer', email: 'v@example.com' },
    });
    await stores.audit.appendAudit(org, {
      actor: admin,
      action: 'token.create',
      target: { type: 'token', id: 't1' },
    });
    await stores.audit.appendAudit(org, {
      actor: { type: 'system', id: null },
      action: 'org.entitlements.update',
    });
    await stores.audit.appendAudit(org, {
      actor: admin,
      action: 'user.create',
      target: { type: 'user', id: 'u2' },
    });

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: { items: AuditRecord[]; nextCursor: string | null } = await stores.audit.listAudit(org, {
        limit: 3,
        cursor,
      });
      pages.push(page.items.map((e) => `${e.action}:${e.target?.id ?? '-'}`));
      cursor = page.nextCursor;
    } while (cursor);

    expect({
      first,
      pages,
      userCreates: (await stores.audit.listAudit(org, { action: 'user.create' })).items.map(
        (e) => e.target?.id,
      ),
    }).toEqual({
      first: {
        id: first.id,
        orgId: org,
        actor: admin,
        action: 'user.create',
        target: { type: 'user', id: 'u1' },
        details: { role: 'viewer', email: 'v@example.com' },
        at: expect.any(Date),
      },
      pages: [['user.create:u2', 'org.entitlements.update:-', 'token.create:t1'], ['user.create:u1']],
      userCreates: ['u2', 'u1'],
    });
  });

  it.each([
    [{ actor: { type: 'user', id: null }, action: 'create' }, 'CP_INVALID_ARGUMENT'],
    [{ actor: { type: 'user', id: null }, action: 'User.Create' }, 'CP_INVALID_ARGUMENT'],
    [{ actor: { type: 'robot', id: null }, action: 'user.create' }, 'CP_INVALID_ARGUMENT'],
  ])('refuses %j', async (entry, code) => {
    await expect(stores.audit.appendAudit(org, entry as never)).rejects.toMatchObject({ code });
  });

  it('rejects a cursor from another listing', async () => {
    const images = Buffer.from(JSON.stringify(['name:asc', 'a', 'b'])).toString('base64url');
    const tampered = Buffer.from(JSON.stringify(['audit', '1; DROP TABLE orgs'])).toString('base64url');
    const codes = await Promise.all(
      [images, tampered].map((cursor) =>
        stores.audit.listAudit(org, { cursor }).catch((e: { code: string }) => e.code),
      ),
    );
    expect(codes).toEqual(['CP_CURSOR_INVALID', 'CP_CURSOR_INVALID']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrgRecord, OrgStore } from '../../services/types.js';
import { generateApiToken, hashPassword, verifyPassword } from '../credentials.js';
import { pgOrgStore } from './orgs-users-tokens.js';
import type { SqlDatabase } from './sql.js';
import { createMigratedDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

let scratch: ScratchDatabase;
let db: SqlDatabase;
let store: OrgStore;
let org: OrgRecord;

beforeAll(async () => {
  ({ scratch, db } = await createMigratedDatabase());
  store = pgOrgStore(db);
  org = await store.createOrg({ slug: 'acme', name: 'Acme Corp' });
});
afterAll(() => scratch?.drop());

const anyDate = expect.any(Date) as unknown as Date;

describe('organisations', () => {
  it('creates an org with scanning entitled by default and toggles the entitlement', async () => {
    const created = await store.createOrg({ slug: 'globex', name: 'Globex' });
    const off = await store.setEntitlements(created.id, { scanningEnabled: false });
    expect({ created, off, read: await store.getOrg(created.id) }).toEqual({
      created: { id: created.id, slug: 'globex', name: 'Globex', scanningEnabled: true, createdAt: anyDate },
      off: { ...created, scanningEnabled: false },
      read: { ...created, scanningEnabled: false },
    });
  });

  it.each([
    [{ slug: 'acme', name: 'Again' }, 'CP_CONFLICT'],
    [{ slug: 'Bad Slug', name: 'x' }, 'CP_INVALID_ARGUMENT'],
    [{ slug: 'ok-slug', name: '' }, 'CP_INVALID_ARGUMENT'],
  ])('refuses %j with %s', async (input, code) => {
    await expect(store.createOrg(input)).rejects.toMatchObject({ code });
  });

  it('answers null / CP_NOT_FOUND for an unknown org and CP_INVALID_ARGUMENT for a malformed id', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await store.getOrg(unknown)).toBeNull();
    await expect(store.setEntitlements(unknown, { scanningEnabled: true })).rejects.toMatchObject({
      code: 'CP_NOT_FOUND',
    });
    await expect(store.getOrg('not-a-uuid')).rejects.toMatchObject({ code: 'CP_INVALID_ARGUMENT' });
  });
});

describe('users and roles', () => {
  it('creates users with lower-cased unique emails and finds logins in any case', async () => {
    const hash = await hashPassword('s3cret!');
    const alice = await store.createUser(org.id, {
      email: ' Alice@Example.COM ',
      role: 'admin',
      displayName: 'Alice',
      passwordHash: hash,
    });
    const login = await store.findLogin('ALICE@example.com');
    expect({
      alice,
      login: { ...login, passwordOk: await verifyPassword('s3cret!', login!.passwordHash!) },
      nobody: await store.findLogin('nobody@example.com'),
    }).toEqual({
      alice: {
        id: alice.id,
        orgId: org.id,
        email: 'alice@example.com',
        displayName: 'Alice',
        role: 'admin',
        createdAt: anyDate,
        disabledAt: null,
      },
      login: { user: alice, org, passwordHash: hash, passwordOk: true },
      nobody: null,
    });
    await expect(
      store.createUser(org.id, { email: 'ALICE@example.com', role: 'viewer' }),
    ).rejects.toMatchObject({ code: 'CP_CONFLICT' });
    await expect(
      store.createUser(org.id, { email: 'eve@example.com', role: 'root' as 'admin' }),
    ).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
  });

  it('changes roles but never demotes the last active admin', async () => {
    const o = await store.createOrg({ slug: 'roles', name: 'Roles' });
    const a = await store.createUser(o.id, { email: 'a@roles.test', role: 'admin' });
    const b = await store.createUser(o.id, { email: 'b@roles.test', role: 'viewer' });
    await expect(store.setUserRole(o.id, a.id, 'member')).rejects.toMatchObject({ code: 'CP_LAST_ADMIN' });
    const promoted = await store.setUserRole(o.id, b.id, 'admin');
    const demoted = await store.setUserRole(o.id, a.id, 'member');
    await store.setUserRole(o.id, a.id, 'admin');
    // both admins demoted at once: the admins are locked first, so exactly one demotion wins
    const results = await Promise.allSettled([
      store.setUserRole(o.id, a.id, 'viewer'),
      store.setUserRole(o.id, b.id, 'viewer'),
    ]);
    expect({
      promoted: promoted.role,
      demoted: demoted.role,
      outcomes: results
        .map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code))
        .sort(),
      admins: (await store.listUsers(o.id)).filter((u) => u.role === 'admin').length,
    }).toEqual({ promoted: 'admin', demoted: 'member', outcomes: ['CP_LAST_ADMIN', 'ok'], admins: 1 });
  });

  it('sets and clears a password hash', async () => {
    const u = await store.createUser(org.id, { email: 'pw@example.com', role: 'member' });
    await store.setPasswordHash(org.id, u.id, await hashPassword('pw'));
    const withPw = await store.findLogin('pw@example.com');
    await store.setPasswordHash(org.id, u.id, null);
    expect({
      had: await verifyPassword('pw', withPw!.passwordHash!),
      now: (await store.findLogin('pw@example.com'))!.passwordHash,
    }).toEqual({
      had: true,
      now: null,
    });
    await expect(store.setPasswordHash(org.id, u.id, 'plaintext')).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
  });
});

describe('API tokens', () => {
  it('verifies a live token by hash, records its use, and refuses revoked or expired ones', async () => {
    const admin = (await store.listUsers(org.id)).find((u) => u.role === 'admin')!;
    const live = generateApiToken();
    const expired = generateApiToken();
    const t = await store.createToken(org.id, {
      name: 'ci',
      scopes: ['ci', 'read', 'ci'],
      hash: live.hash,
      prefix: live.prefix,
      createdBy: admin.id,
    });
    await store.createToken(org.id, {
      name: 'old',
      scopes: ['read'],
      hash: expired.hash,
      prefix: expired.prefix,
      expiresAt: new Date(Date.now() - 1000),
    });
    const principal = await store.verifyToken(live.hash);
    const revoked = await store.revokeToken(org.id, t.id);
    const revokedAgain = await store.revokeToken(org.id, t.id);
    expect({
      t,
      principal,
      revokedAt:
        revokedAgain.revokedAt?.getTime() === revoked.revokedAt?.getTime() && revoked.revokedAt !== null,
      afterRevoke: await store.verifyToken(live.hash),
      expired: await store.verifyToken(expired.hash),
      unknown: await store.verifyToken(generateApiToken().hash),
      malformed: await store.verifyToken('nope'),
      listed: (await store.listTokens(org.id)).map((x) => [x.name, x.scopes, x.revokedAt !== null]),
    }).toEqual({
      t: {
        id: t.id,
        orgId: org.id,
        name: 'ci',
        prefix: live.prefix,
        scopes: ['ci', 'read'],
        createdBy: admin.id,
        createdAt: anyDate,
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
      },
      principal: { token: { ...t, lastUsedAt: anyDate }, org },
      revokedAt: true,
      afterRevoke: null,
      expired: null,
      unknown: null,
      malformed: null,
      listed: [
        ['ci', ['ci', 'read'], true],
        ['old', ['read'], false],
      ],
    });
  });

  it.each([[[]], [['write']]])('refuses scopes %j', async (scopes) => {
    const { hash, prefix } = generateApiToken();
    await expect(
      store.createToken(org.id, { name: 'x', scopes: scopes as ['ci'], hash, prefix }),
    ).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
  });
});

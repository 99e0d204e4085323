/**
 * The verified-token cache over the real Postgres org store: which lookups reach the database (counted at the
 * SqlDatabase seam), revocation and entitlement changes through the wrapped store, a revocation made elsewhere
 * (seen once the TTL passed), expiry, and concurrent first requests. Time is a test clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrgRecord, TokenPrincipal } from '../services/types.js';
import { generateApiToken } from '../store/credentials.js';
import { pgOrgStore } from '../store/postgres/orgs-users-tokens.js';
import type { SqlDatabase } from '../store/postgres/sql.js';
import { createMigratedDatabase, type ScratchDatabase } from '../store/postgres/testdata/scratch-database.js';
import { cacheVerifiedTokens } from './token-cache.js';

describe('cacheVerifiedTokens over Postgres', () => {
  let scratch: ScratchDatabase;
  let db: SqlDatabase;
  let org: OrgRecord;
  let statements = 0;
  let counting: SqlDatabase;
  beforeAll(async () => {
    ({ scratch, db } = await createMigratedDatabase());
    org = await pgOrgStore(db).createOrg({ slug: 'token-cache', name: 'Token cache' });
    counting = {
      ...db,
      query: (text, values) => {
        statements++;
        return db.query(text, values);
      },
    } as SqlDatabase;
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  const clock = () => {
    const c = { t: 1_000_000, now: () => c.t };
    return c;
  };
  const newToken = async (expiresAt: Date | null = null) => {
    const t = generateApiToken();
    const record = await pgOrgStore(db).createToken(org.id, {
      name: `t-${t.prefix}`,
      scopes: ['read'],
      hash: t.hash,
      prefix: t.prefix,
      expiresAt,
    });
    return { ...t, record };
  };
  const ids = (p: TokenPrincipal | null) =>
    p && { token: p.token.id, org: p.org.id, scanning: p.org.scanningEnabled };

  it('asks Postgres once per TTL for a live token, and every time for an unknown one', async () => {
    const c = clock();
    const orgs = cacheVerifiedTokens(pgOrgStore(counting), { ttlMs: 5_000, now: c.now });
    const token = await newToken();
    statements = 0;
    const first = await orgs.verifyToken(token.hash);
    const second = await orgs.verifyToken(token.hash);
    c.t += 4_999;
    const third = await orgs.verifyToken(token.hash);
    expect(statements).toBe(1);
    const expected = { token: token.record.id, org: org.id, scanning: true };
    expect([first, second, third].map(ids)).toEqual([expected, expected, expected]);
    c.t += 1;
    expect(ids(await orgs.verifyToken(token.hash))).toEqual(expected);
    expect(statements).toBe(2);

    const unknown = generateApiToken();
    statements = 0;
    expect(await orgs.verifyToken(unknown.hash)).toBeNull();
    expect(await orgs.verifyToken(unknown.hash)).toBeNull();
    expect(statements).toBe(2);
  });

  it('drops a token revoked through the wrapped store at once', async () => {
    const c = clock();
    const orgs = cacheVerifiedTokens(pgOrgStore(counting), { now: c.now });
    const token = await newToken();
    expect(ids(await orgs.verifyToken(token.hash))).toEqual({
      token: token.record.id,
      org: org.id,
      scanning: true,
    });
    const revoked = await orgs.revokeToken(org.id, token.record.id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await orgs.verifyToken(token.hash)).toBeNull();
  });

  it('sees a revocation made elsewhere once the TTL passed', async () => {
    const c = clock();
    const orgs = cacheVerifiedTokens(pgOrgStore(db), { ttlMs: 5_000, now: c.now });
    const token = await newToken();
    const expected = { token: token.record.id, org: org.id, scanning: true };
    expect(ids(await orgs.verifyToken(token.hash))).toEqual(expected);
    await pgOrgStore(db).revokeToken(org.id, token.record.id); // another replica
    c.t += 4_000;
    expect(ids(await orgs.verifyToken(token.hash))).toEqual(expected);
    c.t += 1_000;
    expect(await orgs.verifyToken(token.hash)).toBeNull();
  });

  it('answers entitlement changes made through the wrapped store at once', async () => {
    const c = clock();
    const orgs = cacheVerifiedTokens(pgOrgStore(db), { now: c.now });
    const token = await newToken();
    expect(ids(await orgs.verifyToken(token.hash))?.scanning).toBe(true);
    await orgs.setEntitlements(org.id, { scanningEnabled: false });
    try {
      expect(ids(await orgs.verifyToken(token.hash))).toEqual({
        token: token.record.id,
        org: org.id,
        scanning: false,
      });
    } finally {
      await orgs.setEntitlements(org.id, { scanningEnabled: true });
    }
  });

  it('never answers a token past its expiry, cached or not', async () => {
    const c = clock();
    const orgs = cacheVerifiedTokens(pgOrgStore(db), { ttlMs: 5_000, now: c.now });
    const token = await newToken(new Date(Date.now() + 60_000));
    c.t = Date.now();
    expect(ids(await orgs.verifyToken(token.hash))?.token).toBe(token.record.id);
    c.t = token.record.expiresAt!.getTime();
    expect(await orgs.verifyToken(token.hash)).toBeNull();
  });

  it('shares one lookup between concurrent first requests, and gives each caller its own copy', async () => {
    const c = clock();
    const orgs = cacheVerifiedTokens(pgOrgStore(counting), { now: c.now });
    const token = await newToken();
    statements = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => orgs.verifyToken(token.hash)));
    expect(statements).toBe(1);
    expect(new Set(answers.map((a) => a!.token.id))).toEqual(new Set([token.record.id]));
    answers[0]!.org.scanningEnabled = false;
    expect((await orgs.verifyToken(token.hash))!.org.scanningEnabled).toBe(true);
  });

  it('does not keep a lookup that was in flight during a revocation', async () => {
    const c = clock();
    const orgs = cacheVerifiedTokens(pgOrgStore(counting), { now: c.now });
    const token = await newToken();
    const inFlight = orgs.verifyToken(token.hash);
    const revoked = orgs.revokeToken(org.id, token.record.id);
    await Promise.all([inFlight, revoked]);
    expect(await orgs.verifyToken(token.hash)).toBeNull();
  });

  it('keeps at most maxEntries tokens, dropping the oldest', async () => {
    const c = clock();
    const orgs = cacheVerifiedTokens(pgOrgStore(counting), { maxEntries: 2, now: c.now });
    const tokens = [await newToken(), await newToken(), await newToken()];
    for (const t of tokens) await orgs.verifyToken(t.hash);
    statements = 0;
    await orgs.verifyToken(tokens[2]!.hash);
    await orgs.verifyToken(tokens[1]!.hash);
    expect(statements).toBe(0);
    await orgs.verifyToken(tokens[0]!.hash);
    expect(statements).toBe(1);
  });
});

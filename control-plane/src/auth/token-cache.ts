/**
 * A short-lived cache of verified API tokens in front of an {@link OrgStore}: a hot token costs one Postgres
 * statement every few seconds instead of one a request (the statement cost Postgres more than a point read of an
 * image; docs/performance.md, Platform). Entries are keyed by the token's hash (the secret is never kept), hold
 * for `ttlMs` (default 5 s) and never past the token's own expiry.
 *
 * Revoking a token or changing an org's entitlements through the wrapped store drops the affected entries at
 * once, in this process. A change made elsewhere (another control-plane replica, SQL by hand) is seen within
 * `ttlMs`. Unknown tokens are not cached, so a token created anywhere works on its first request. Concurrent
 * first requests with one token share a single lookup; a lookup that was in flight while a revocation happened
 * answers its own callers but is not kept.
 */
import type { OrgStore, TokenPrincipal } from '../services/types.js';

export interface TokenCacheOptions {
  /** how long a verified token is trusted without asking the store again; default 5,000 ms */
  ttlMs?: number;
  /** entries kept at most (the oldest go first); default 10,000 */
  maxEntries?: number;
  /** milliseconds clock, for tests; default Date.now */
  now?: () => number;
}

interface Entry {
  principal: Promise<TokenPrincipal | null>;
  /** the answer once the lookup settled with a token (unknown tokens and failures are not kept) */
  settled?: TokenPrincipal;
  /** until when (clock ms) the entry answers */
  until: number;
}

export const TOKEN_CACHE_TTL_MS = 5_000;

/** `orgs` with `verifyToken` cached; `revokeToken` and `setEntitlements` invalidate. Other methods delegate. */
export function cacheVerifiedTokens<S extends OrgStore>(orgs: S, options: TokenCacheOptions = {}): S {
  const ttlMs = options.ttlMs ?? TOKEN_CACHE_TTL_MS;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // bumped by every invalidation: a lookup started before one is not stored
  let epoch = 0;

  const drop = (matches: (p: TokenPrincipal) => boolean): void => {
    epoch++;
    // pending lookups go too: they may be for an affected token
    for (const [hash, entry] of entries) if (!entry.settled || matches(entry.settled)) entries.delete(hash);
  };

  const overrides: Partial<OrgStore> = {
    verifyToken(hash) {
      const at = now();
      const hit = entries.get(hash);
      if (hit && hit.until > at) return hit.principal.then((p) => p && fresh(p, at));
      if (hit) entries.delete(hash);
      const started = epoch;
      const principal = orgs.verifyToken(hash);
      const entry: Entry = { principal, until: at + ttlMs };
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(hash, entry);
      const forget = () => {
        if (entries.get(hash) === entry) entries.delete(hash);
      };
      principal.then((p) => {
        if (p === null || started !== epoch) return forget();
        entry.settled = p;
        if (p.token.expiresAt) entry.until = Math.min(entry.until, p.token.expiresAt.getTime());
      }, forget);
      return principal.then((p) => p && fresh(p, at));
    },

    async revokeToken(orgId, tokenId) {
      try {
        return await orgs.revokeToken(orgId, tokenId);
      } finally {
        drop((p) => p.token.id === tokenId);
      }
    },

    async setEntitlements(orgId, input) {
      try {
        return await orgs.setEntitlements(orgId, input);
      } finally {
        drop((p) => p.org.id === orgId);
      }
    },
  };
  return Object.assign(Object.create(orgs) as S, overrides);
}

/** A copy per caller (nothing a request does to its principal reaches the next one); null once expired. */
function fresh(p: TokenPrincipal, at: number): TokenPrincipal | null {
  if (p.token.expiresAt && p.token.expiresAt.getTime() <= at) return null;
  return { token: { ...p.token }, org: { ...p.org } };
}

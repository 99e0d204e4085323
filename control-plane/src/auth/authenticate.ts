/**
 * Authentication: API tokens (bearer), session cookies, and password login. Every failure is the same
 * CP_UNAUTHENTICATED whatever the reason (unknown user, wrong password, revoked token), and a login for an
 * unknown user does the same scrypt work as one for a known user, so neither answers nor timing tell which
 * accounts exist.
 */
import { randomBytes } from 'node:crypto';
import { ControlPlaneError } from '../errors.js';
import { authAttempts } from '../metrics.js';
import type { AuditStore, OrgStore } from '../services/types.js';
import { hashApiToken, hashPassword, verifyPassword } from '../store/credentials.js';
import type { TokenPrincipal, UserPrincipal } from './principal.js';
import { createLoginLimiter, type LoginLimiter } from './rate-limit.js';
import type { SessionStore } from './sessions.js';

export interface AuthDeps {
  orgs: OrgStore;
  audit: AuditStore;
  sessions: SessionStore;
  /** default: {@link createLoginLimiter} with its defaults */
  limiter?: LoginLimiter;
}

export interface LoginInput {
  email: string;
  password: string;
  /** the client's address, for throttling */
  address: string;
}

export interface Auth {
  /** The caller behind an API token secret (`vgl_…`). CP_UNAUTHENTICATED when unknown, revoked or expired. */
  authenticateToken(secret: string): Promise<TokenPrincipal>;
  /** The caller behind a session cookie secret. CP_UNAUTHENTICATED when unknown, expired or its user is gone. */
  authenticateSession(secret: string): Promise<UserPrincipal>;
  /**
   * Checks a password and starts a session; returns the cookie secret. CP_UNAUTHENTICATED for a wrong email or
   * password, CP_RATE_LIMITED (a RateLimitedError) after too many failures for the account or address.
   */
  login(input: LoginInput): Promise<{ principal: UserPrincipal; secret: string }>;
  /** Ends the caller's session. */
  logout(secret: string): Promise<void>;
}

const TOKEN_SECRET = /^vgl_[A-Za-z0-9_-]{43}$/;

function unauthenticated(message: string): ControlPlaneError {
  return new ControlPlaneError('CP_UNAUTHENTICATED', message);
}

/**
 * The token in an `Authorization` header: `Bearer <token>` (scheme in any case). Null when there is no header;
 * CP_UNAUTHENTICATED for any other scheme or an empty token.
 */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) throw unauthenticated('the authorization header must be "Bearer <API token>"');
  return match[1]!;
}

/** Authentication over the account stores and a session store. */
export function createAuth(deps: AuthDeps): Auth {
  const limiter = deps.limiter ?? createLoginLimiter();
  let dummyHash: Promise<string> | undefined;
  // Verified against for unknown users and users without a password, so every login costs one scrypt.
  const decoy = () => (dummyHash ??= hashPassword(randomBytes(16).toString('base64url')));

  return {
    async authenticateToken(secret) {
      const principal = TOKEN_SECRET.test(secret) ? await deps.orgs.verifyToken(hashApiToken(secret)) : null;
      if (!principal) {
        authAttempts.inc({ method: 'token', result: 'invalid' });
        throw unauthenticated('the API token is unknown, revoked or expired');
      }
      return { kind: 'token', org: principal.org, token: principal.token };
    },

    async authenticateSession(secret) {
      const session = await deps.sessions.get(secret);
      const [user, org] = session
        ? await Promise.all([
            deps.orgs.getUser(session.orgId, session.userId),
            deps.orgs.getOrg(session.orgId),
          ])
        : [null, null];
      if (!session || !user || !org || user.disabledAt) {
        authAttempts.inc({ method: 'session', result: 'invalid' });
        throw unauthenticated('not signed in, or the session expired');
      }
      return { kind: 'user', org, user, session };
    },

    async login({ email, password, address }) {
      const keys = { account: email, address };
      try {
        limiter.check(keys);
      } catch (error) {
        authAttempts.inc({ method: 'password', result: 'rate_limited' });
        throw error;
      }
      const found = await deps.orgs.findLogin(email);
      const matches = await verifyPassword(password, found?.passwordHash ?? (await decoy()));
      if (!found || !found.passwordHash || !matches) {
        limiter.failed(keys);
        authAttempts.inc({ method: 'password', result: 'bad_credentials' });
        if (found) {
          await deps.audit.appendAudit(found.org.id, {
            actor: { type: 'user', id: found.user.id },
            action: 'user.login_failed',
            target: { type: 'user', id: found.user.id },
            details: { address },
          });
        }
        throw unauthenticated('email or password is wrong');
      }
      limiter.succeeded(keys);
      authAttempts.inc({ method: 'password', result: 'ok' });
      const { secret, session } = await deps.sessions.create(found.org.id, found.user.id);
      return { principal: { kind: 'user', org: found.org, user: found.user, session }, secret };
    },

    logout: (secret) => deps.sessions.delete(secret),
  };
}

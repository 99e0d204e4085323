/**
 * Accounts at the API edge: who is calling (sessions, API tokens, password login), what they may do (the one
 * permission table), CSRF and login throttling, and the first admin. Used by the REST gateway and the public
 * gRPC services.
 */
export { bearerToken, createAuth, type Auth, type AuthDeps, type LoginInput } from './authenticate.js';
export {
  bootstrapAdmin,
  checkPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  type BootstrapAdminInput,
  type BootstrapDeps,
  type BootstrapResult,
} from './bootstrap.js';
export { checkCsrf, CSRF_HEADER, type CsrfRequest } from './csrf.js';
export {
  authorize,
  heldPermissions,
  holds,
  PERMISSION_NAMES,
  PERMISSIONS,
  type Permission,
} from './permissions.js';
export { actorOf, type Principal, type TokenPrincipal, type UserPrincipal } from './principal.js';
export {
  createLoginLimiter,
  RateLimitedError,
  type LoginKeys,
  type LoginLimiter,
  type LoginLimiterOptions,
} from './rate-limit.js';
export { cacheVerifiedTokens, TOKEN_CACHE_TTL_MS, type TokenCacheOptions } from './token-cache.js';
export { pgSessionStore, type SessionOptions, type SessionRecord, type SessionStore } from './sessions.js';

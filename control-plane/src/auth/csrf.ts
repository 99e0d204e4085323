/**
 * Cross-site request forgery defence for cookie-authenticated requests (bearer tokens are exempt: a browser
 * never attaches them on its own). A state-changing request must
 *   1. come from an allowed origin, when the browser says where it comes from (`Origin`, else `Referer`), and
 *   2. echo the session's CSRF token in the `x-csrf-token` header. The login response hands the token out in
 *      its body and in a readable `vigil_csrf` cookie (double submit); the server compares the header with the
 *      token stored in the session, so a forged cookie alone does not pass.
 * SameSite=Lax session cookies already keep most cross-site POSTs out; this covers the rest (subdomains, old
 * browsers).
 */
import { timingSafeEqual } from 'node:crypto';
import { ControlPlaneError } from '../errors.js';

/** The request header carrying the CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CsrfRequest {
  method: string;
  /** value of `x-csrf-token` */
  token: string | undefined;
  origin: string | undefined;
  referer: string | undefined;
}

function sourceOrigin(request: CsrfRequest): string | undefined {
  if (request.origin !== undefined) return request.origin;
  if (request.referer === undefined) return undefined;
  try {
    return new URL(request.referer).origin;
  } catch {
    return 'null';
  }
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Throws CP_CSRF when a state-changing request authenticated by the session with `sessionToken` comes from an
 * origin outside `allowedOrigins` (e.g. `https://vigil.example.com`) or lacks the matching token header.
 */
export function checkCsrf(
  request: CsrfRequest,
  sessionToken: string,
  allowedOrigins: readonly string[],
): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = sourceOrigin(request);
  if (origin !== undefined && !allowedOrigins.includes(origin)) {
    throw new ControlPlaneError('CP_CSRF', `requests from origin ${origin} are not allowed`);
  }
  if (request.token === undefined || !sameToken(request.token, sessionToken)) {
    throw new ControlPlaneError(
      'CP_CSRF',
      `the ${CSRF_HEADER} header is missing or does not match the session`,
    );
  }
}

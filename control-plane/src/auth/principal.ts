/**
 * Who is calling: a user signed in with a session cookie, or an API token. Both carry their organisation,
 * which scopes every query the request makes; nothing in a request body or URL ever chooses the org.
 */
import type { Actor } from '../services/api.js';
import type { OrgRecord, TokenRecord, UserRecord } from '../services/types.js';
import type { SessionRecord } from './sessions.js';

export interface UserPrincipal {
  kind: 'user';
  org: OrgRecord;
  user: UserRecord;
  session: SessionRecord;
}

export interface TokenPrincipal {
  kind: 'token';
  org: OrgRecord;
  token: TokenRecord;
}

export type Principal = UserPrincipal | TokenPrincipal;

/** The audit-log actor of a principal. */
export function actorOf(principal: Principal): Actor {
  return principal.kind === 'user'
    ? { type: 'user', id: principal.user.id }
    : { type: 'token', id: principal.token.id };
}

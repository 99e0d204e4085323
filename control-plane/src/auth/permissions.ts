/**
 * The one permission table of the control plane, used by the REST gateway and the public gRPC services alike.
 * Every route and every RPC names one permission; a caller holds it through its user role (session) or one of
 * its token scopes (bearer). Permissions marked `scanning` also need the organisation's scanning entitlement.
 *
 * Roles: viewer reads; member also scans, uploads reports, bulk-rescans and cancels; admin also manages users,
 * tokens and the vulnerability database (updates, snapshot uploads). Scopes: `read` reads; `ci` reads, requests
 * scans and uploads reports; `admin` does everything.
 */
import { ControlPlaneError } from '../errors.js';
import type { Role, TokenScope } from '../services/types.js';
import type { Principal } from './principal.js';

export type Permission =
  | 'self'
  | 'read'
  | 'scan.create'
  | 'report.upload'
  | 'scan.bulk'
  | 'scan.cancel'
  | 'users.manage'
  | 'tokens.manage'
  | 'db.manage';

interface PermissionRule {
  roles: readonly Role[];
  scopes: readonly TokenScope[];
  /** needs `org.scanningEnabled` */
  scanning?: true;
}

const ANY_ROLE: readonly Role[] = ['viewer', 'member', 'admin'];
const ANY_SCOPE: readonly TokenScope[] = ['read', 'ci', 'admin'];
const WRITERS: readonly Role[] = ['member', 'admin'];

/** Who holds each permission. */
export const PERMISSIONS: Readonly<Record<Permission, PermissionRule>> = {
  /** one's own identity and session (`/auth/me`, `/auth/logout`) */
  self: { roles: ANY_ROLE, scopes: ANY_SCOPE },
  read: { roles: ANY_ROLE, scopes: ANY_SCOPE },
  'scan.create': { roles: WRITERS, scopes: ['ci', 'admin'], scanning: true },
  'report.upload': { roles: WRITERS, scopes: ['ci', 'admin'], scanning: true },
  'scan.bulk': { roles: WRITERS, scopes: ['admin'], scanning: true },
  'scan.cancel': { roles: WRITERS, scopes: ['admin'] },
  'users.manage': { roles: ['admin'], scopes: ['admin'] },
  'tokens.manage': { roles: ['admin'], scopes: ['admin'] },
  /** the vulnerability database: start an update, upload a snapshot (`/db/update`, `PUT /db/snapshot`) */
  'db.manage': { roles: ['admin'], scopes: ['admin'] },
};

/** Every permission name, in table order. */
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/** True when the caller's role or token scopes grant `permission` (entitlements aside). */
export function holds(principal: Principal, permission: Permission): boolean {
  const rule = PERMISSIONS[permission];
  if (principal.kind === 'user') return rule.roles.includes(principal.user.role);
  return principal.token.scopes.some((scope) => rule.scopes.includes(scope));
}

/**
 * Throws unless the caller may do `permission` now: CP_FORBIDDEN when neither its role nor its scopes grant it,
 * CP_ENTITLEMENT_DISABLED when it does but the organisation's scanning entitlement is off.
 */
export function authorize(principal: Principal, permission: Permission): void {
  if (!holds(principal, permission)) {
    const holder =
      principal.kind === 'user'
        ? `role ${principal.user.role}`
        : `token scopes ${principal.token.scopes.join(', ')}`;
    throw new ControlPlaneError('CP_FORBIDDEN', `${holder} does not allow ${permission}`);
  }
  if (PERMISSIONS[permission].scanning && !principal.org.scanningEnabled) {
    throw new ControlPlaneError('CP_ENTITLEMENT_DISABLED', 'scanning is not enabled for this organisation');
  }
}

/** The permissions the caller holds (for `/auth/me`, so a console can hide what it cannot do). */
export function heldPermissions(principal: Principal): Permission[] {
  return PERMISSION_NAMES.filter((permission) => holds(principal, permission));
}
